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
