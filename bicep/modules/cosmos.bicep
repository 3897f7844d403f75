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

var isServerless = capacityMode == 'serverless'

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

// One document per accepted event, keyed by its id; queried by tenant and by event date only.
resource eventsContainer 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: 'events'
  properties: {
    resource: {
      id: 'events'
      partitionKey: {
        paths: [
          '/id'
        ]
        kind: 'Hash'
      }
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

// Windowed aggregates per tenant, read by the BI feed by type and window.
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
