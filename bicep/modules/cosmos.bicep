// Cosmos DB for NoSQL: the account, the pipeline database and its containers.
// Key-based auth is disabled; the app writes through a data-plane SQL role assignment (rbac.bicep).
// Data-plane roles cannot create databases or containers, so they are all declared here.

@description('Required. Name of the Cosmos DB account.')
param accountName string

@description('Optional. Azure region of the account.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the account.')
param tags object = {}

@description('Optional. `serverless` (pay per request, up to 5,000 RU/s per container) or `autoscale` (provisioned throughput shared by the database).')
@allowed([
  'serverless'
  'autoscale'
])
param capacityMode string = 'serverless'

@description('Optional. Maximum RU/s of the shared database throughput when `capacityMode` is `autoscale`.')
@minValue(1000)
@maxValue(1000000)
param autoscaleMaxThroughput int = 1000

@description('Required. Name of the SQL database.')
param databaseName string

@description('Optional. Enable zone redundancy for the account region.')
param zoneRedundant bool = false

@description('Optional. Days an event document is kept (`defaultTtl` of the `events` container, counted from its last write). Duplicate detection compares each event with the stored ones: an event delivered again after its document expired is stored and counted again. Keep it longer than any redelivery or replay (Event Hubs retention, Event Grid retries, producer resends, dead-letter replays). At most 24855 days (`defaultTtl` is a 32-bit number of seconds).')
@minValue(30)
@maxValue(24855)
param eventRetentionDays int = 90

@description('Optional. Days an aggregate row is kept (`defaultTtl` of the `aggregates` container, counted from its last write); 0 keeps rows for good. Power BI reads the rows: an expired window disappears from its reports, and an event that arrives for it later starts a new row with only that event.')
@minValue(0)
@maxValue(24855)
param aggregateRetentionDays int = 0

var isServerless = capacityMode == 'serverless'
var secondsPerDay = 86400

// `defaultTtl` -1 turns time to live on without expiring anything (no document sets its own `ttl`).
var aggregatesDefaultTtl = (aggregateRetentionDays == 0) ? -1 : aggregateRetentionDays * secondsPerDay

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: 'Enabled'
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: zoneRedundant
      }
    ]
    capabilities: isServerless ? [
      {
        name: 'EnableServerless'
      }
    ] : []
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
    options: isServerless ? {} : {
      autoscaleSettings: {
        maxThroughput: autoscaleMaxThroughput
      }
    }
  }
}

// One document per accepted event, id = a digest of (tenantid, source, id). Partitioned by tenant so
// that a batch's new documents of one tenant go out as transactional batches (pipeline/persist.py
// EVENTS_PARTITION_KEY); one tenant's documents within the retention must fit a logical partition (20 GB).
// A partition key cannot be changed on an existing container: docs/deployment.md says how to move.
// Queried by tenant and by event date only.
resource eventsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'events'
  properties: {
    resource: {
      id: 'events'
      partitionKey: {
        paths: [
          '/tenantid'
        ]
        kind: 'Hash'
      }
      defaultTtl: eventRetentionDays * secondsPerDay
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/tenantid/?'
          }
          {
            path: '/event_date/?'
          }
        ]
        excludedPaths: [
          {
            path: '/*'
          }
        ]
      }
    }
  }
}

// Windowed aggregates per tenant (pipeline/aggregates.py AGGREGATES_PARTITION_KEY), read by the BI
// feed by type and window.
resource aggregatesContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'aggregates'
  properties: {
    resource: {
      id: 'aggregates'
      partitionKey: {
        paths: [
          '/tenant_id'
        ]
        kind: 'Hash'
      }
      defaultTtl: aggregatesDefaultTtl
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/event_type/?'
          }
          {
            path: '/window_start/?'
          }
          {
            path: '/window_minutes/?'
          }
        ]
        excludedPaths: [
          {
            path: '/*'
          }
        ]
      }
    }
  }
}

@description('Required. Name of the account.')
output name string = account.name

@description('Required. Resource ID of the account.')
output resourceId string = account.id

@description('Required. Document endpoint of the account, for `CosmosDB__accountEndpoint`.')
output endpoint string = account.properties.documentEndpoint
