// One storage account: host storage for the Functions runtime and Durable Functions (Azure Storage
// backend), the Flex Consumption deployment package container, and the pipeline's blob data
// containers. Shared keys are disabled: every client authenticates with Entra ID.

@description('Required. Name of the storage account (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Optional. Azure region of the account.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the account.')
param tags object = {}

@description('Optional. Replication SKU of the account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param skuName string = 'Standard_ZRS'

@description('Required. Blob containers to create (data containers and the deployment package container).')
param containerNames array

@description('Optional. Days a deleted blob or container can be restored.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int = 7

@description('Optional. Days the blobs of a batch (`batches/{batch id}/`: claim check, ingest manifest, curated record, result) are kept after their last write. Its orchestration and the reconciliation sweep need them until the batch has a result, and a redelivery of the same batch id (an Event Hubs replay, an Event Grid retry, an HTTP client resending a body) is told the batch has finished by its result. More than the longest Event Hubs retention this template allows (7 days).')
@minValue(8)
param batchRetentionDays int = 14

@description('Optional. Days a fold marker (`contributions/folded/{contribution id}`) is kept after it is written. A contribution queued again after its fold (an activity retry, a stranded batch restarted, or a batch id delivered again after its result was deleted while its events are still stored) is dropped only while its marker exists: keep markers as long as the events.')
@minValue(1)
param foldedMarkerRetentionDays int = 90

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: skuName
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    isLocalUserEnabled: false
    isSftpEnabled: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Flex Consumption without a virtual network and Event Grid webhooks need the public endpoint;
    // access is still Entra ID only (no shared keys, no anonymous blobs).
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: {
          enabled: true
        }
        file: {
          enabled: true
        }
        queue: {
          enabled: true
          keyType: 'Account'
        }
        table: {
          enabled: true
          keyType: 'Account'
        }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    deleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
    containerDeleteRetentionPolicy: {
      enabled: true
      days: softDeleteRetentionDays
    }
  }
}

resource containers 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for containerName in containerNames: {
    parent: blobService
    name: containerName
    properties: {
      publicAccess: 'None'
    }
  }
]

// Lifecycle rules of the data containers (a rule runs about once a day; its ages count from a blob's
// last write). `contributions/pending/` and `contributions/folds/` have none: the fold deletes them,
// and deleting one unfolded would lose its events from the aggregates. `deadletter` has none: dead
// letters wait for triage and replay, which delete them.
resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: storage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          // Markers of folded contributions (pipeline/contributions.py): empty blobs, never listed,
          // one per contribution; without a rule they would grow for ever.
          name: 'foldedContributionMarkers'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'contributions/folded/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: foldedMarkerRetentionDays
                }
              }
            }
          }
        }
        {
          // Claim checks and manifests. A batch needs them until its orchestration ends (minutes;
          // retries and outages can stretch that to hours) and, if that never happens, until the
          // reconciliation sweep (every 10 minutes) restarts it from its manifest and claim check:
          // deleting them earlier would lose a stranded batch's events. The result also tells a batch id
          // delivered again that it has finished (Event Hubs redelivers within its retention, at most 7
          // days here; Event Grid retries for a day). Two weeks cover both with room for an outage and its
          // fix. The sweep lists the whole container each time, so a much longer age makes every sweep
          // slower and dearer.
          name: 'batchFiles'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                'batches/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: batchRetentionDays
                }
              }
            }
          }
        }
      ]
    }
  }
}

@description('Required. Name of the storage account.')
output name string = storage.name

@description('Required. Resource ID of the storage account.')
output resourceId string = storage.id

@description('Required. Blob service endpoint (https://<account>.blob.<suffix>/).')
output blobEndpoint string = storage.properties.primaryEndpoints.blob

@description('Required. Queue service endpoint.')
output queueEndpoint string = storage.properties.primaryEndpoints.queue

@description('Required. Table service endpoint.')
output tableEndpoint string = storage.properties.primaryEndpoints.table
