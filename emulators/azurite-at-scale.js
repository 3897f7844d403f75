// Preloaded into Azurite by emulators/ctl.py (`node --require`) so that it stays usable when a long
// run leaves tens of thousands of blobs in it (`make soak`). Nothing Azurite answers changes; two of
// its costs stop growing with the number of blobs:
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
const constants = require("../node_modules/azurite/dist/src/blob/utils/constants");
const loki = require("../node_modules/lokijs");

constants.DEFAULT_GC_INTERVAL_MS = 24 * 60 * 60 * 1000;

const MOST_SELECTIVE_FIRST = ["name", "blobName", "id", "containerName", "accountName", "queueName"];
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
