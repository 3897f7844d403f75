// Preloaded into Azurite by emulators/ctl.py (`node --require`) so that it stays usable when a long
// run leaves tens of thousands of blobs in it (`make soak`). Nothing Azurite answers changes; three
// of its costs stop growing with the number of blobs (deleting a blob among 30,000 took 84 ms; see 3):
//
// 1. Its blob garbage collector runs a mark-and-sweep every 10 minutes that, over an in-memory store
//    of tens of thousands of blobs, holds Node's only thread for minutes (measured: a soak stalled at
//    313,100 events with Azurite at 100% CPU for over 3 minutes and every request queued). It only
//    frees the memory of deleted or overwritten blobs, which an emulator started empty for a run or a
//    test session can keep, so its interval is set to a day.
// 2. Azurite looks a blob up with a LokiJS query such as {accountName, containerName, name}. LokiJS
//    applies the keys in order and uses an index for the first only: `accountName`, which every blob
//    shares, so every lookup scanned every blob (measured: bare blob uploads fell from 469/s to 150/s
//    after a 20,000-event soak). The keys are put in order of selectivity, so the first filter is the
//    indexed blob or block name; the conditions are the same, only their order changes.
// 3. Azurite deletes a blob with LokiJS's `findAndRemove`, whose batch removal marks every index of
//    the collection for a full rebuild, so the next lookup sorted every blob again: a delete cost
//    O(blobs log blobs) (measured: 3 ms with no other blob, 84 ms among 30,000; the fold deletes
//    every contribution it folds). A removal of a few documents now goes one document at a time,
//    which updates the indexes in place. And `accountName`, `containerName` and `snapshot` (one
//    account, a dozen containers, no snapshots) are no longer indexed: an index with one value for
//    nearly every blob serves no lookup after (2), and updating it walks that whole run.
const constants = require("../node_modules/azurite/dist/src/blob/utils/constants");
const loki = require("../node_modules/lokijs");

constants.DEFAULT_GC_INTERVAL_MS = 24 * 60 * 60 * 1000;

const UNSELECTIVE = new Set(["accountName", "containerName", "snapshot"]);
const addCollection = loki.prototype.addCollection;

loki.prototype.addCollection = function (name, options) {
  if (options && Array.isArray(options.indices)) {
    options = { ...options, indices: options.indices.filter((field) => !UNSELECTIVE.has(field)) };
  }
  return addCollection.call(this, name, options);
};

const removeBatch = loki.Resultset.prototype.remove;

loki.Resultset.prototype.remove = function () {
  if (!this.filterInitialized || this.filteredrows.length > 16) {
    return removeBatch.call(this);
  }
  for (const doc of this.filteredrows.map((position) => this.collection.data[position])) {
    this.collection.remove(doc);
  }
  this.filteredrows = [];
  return this;
};

const MOST_SELECTIVE_FIRST = ["blobName", "name", "id", "queueName", "containerName", "accountName"];
const find = loki.Resultset.prototype.find;

loki.Resultset.prototype.find = function (query, firstOnly) {
  if (query && typeof query === "object" && !Array.isArray(query)) {
    const keys = Object.keys(query);
    if (keys.length > 1 && keys.every((key) => !key.startsWith("$"))) {
      const rank = (key) => {
        const at = MOST_SELECTIVE_FIRST.indexOf(key);
        return at === -1 ? MOST_SELECTIVE_FIRST.length : at;
      };
      const ordered = {};
      for (const key of [...keys].sort((a, b) => rank(a) - rank(b))) {
        ordered[key] = query[key];
      }
      query = ordered;
    }
  }
  return find.call(this, query, firstOnly);
};
