// Flex Consumption (FC1) plan and the Python function app.
// Flex takes runtime, scale and deployment storage from `functionAppConfig` and rejects the legacy
// settings (FUNCTIONS_WORKER_RUNTIME, WEBSITE_RUN_FROM_PACKAGE, WEBSITE_CONTENT*), so none is set.
// Every connection is identity-based: `<connection>__credential=managedidentity` + `__clientId`.

@description('Required. Name of the function app.')
param name string

@description('Required. Name of the Flex Consumption plan.')
param planName string

@description('Optional. Azure region of the plan and the app.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the plan and the app (the app also gets `azd-service-name: api`).')
param tags object = {}

@description('Required. Resource ID of the user-assigned identity.')
param identityResourceId string

@description('Required. Client ID of the user-assigned identity.')
param identityClientId string

@description('Optional. Python version of the Flex runtime.')
@allowed([
  '3.10'
  '3.11'
  '3.12'
])
param pythonVersion string = '3.11'

@description('Optional. Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

@description('Optional. Upper bound of the instances the app scales out to.')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Required. Blob endpoint of the storage account (host storage, deployment package, data).')
param storageBlobEndpoint string

@description('Required. Queue endpoint of the storage account.')
param storageQueueEndpoint string

@description('Required. Table endpoint of the storage account.')
param storageTableEndpoint string

@description('Required. Blob container that holds the deployment package.')
param deploymentContainerName string

@description('Required. Host name of the Event Hubs namespace.')
param eventHubFullyQualifiedNamespace string

@description('Required. Name of the event hub.')
param eventHubName string

@description('Required. Consumer group the Event Hubs trigger reads with.')
param eventHubConsumerGroupName string

@description('Required. Document endpoint of the Cosmos DB account.')
param cosmosEndpoint string

@description('Required. Name of the Cosmos DB database.')
param cosmosDatabaseName string

@description('Optional. Width of the aggregation window in minutes, read by the app as WINDOW_MINUTES.')
@minValue(1)
param windowMinutes int = 1

@description('Required. Name of the Application Insights component.')
param appInsightsName string

@description('Optional. Endpoint of the Durable Task Scheduler; empty keeps the Azure Storage backend.')
param durableTaskSchedulerEndpoint string = ''

var useDurableTaskScheduler = !empty(durableTaskSchedulerEndpoint)

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

// The exact names the Python code and host.json read. Every connection is identity-based.
var baseAppSettings = [
  {
    name: 'AzureWebJobsStorage__blobServiceUri'
    value: storageBlobEndpoint
  }
  {
    name: 'AzureWebJobsStorage__queueServiceUri'
    value: storageQueueEndpoint
  }
  {
    name: 'AzureWebJobsStorage__tableServiceUri'
    value: storageTableEndpoint
  }
  {
    name: 'AzureWebJobsStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'AzureWebJobsStorage__clientId'
    value: identityClientId
  }
  {
    name: 'EventHubConnection__fullyQualifiedNamespace'
    value: eventHubFullyQualifiedNamespace
  }
  {
    name: 'EventHubConnection__credential'
    value: 'managedidentity'
  }
  {
    name: 'EventHubConnection__clientId'
    value: identityClientId
  }
  {
    name: 'EVENTHUB_NAME'
    value: eventHubName
  }
  {
    name: 'EVENTHUB_CONSUMER_GROUP'
    value: eventHubConsumerGroupName
  }
  {
    name: 'DataStorage__blobServiceUri'
    value: storageBlobEndpoint
  }
  {
    name: 'DataStorage__queueServiceUri'
    value: storageQueueEndpoint
  }
  {
    name: 'DataStorage__credential'
    value: 'managedidentity'
  }
  {
    name: 'DataStorage__clientId'
    value: identityClientId
  }
  {
    name: 'CosmosDB__accountEndpoint'
    value: cosmosEndpoint
  }
  {
    name: 'CosmosDB__credential'
    value: 'managedidentity'
  }
  {
    name: 'CosmosDB__clientId'
    value: identityClientId
  }
  {
    name: 'COSMOS_DATABASE'
    value: cosmosDatabaseName
  }
  {
    name: 'AZURE_CLIENT_ID'
    value: identityClientId
  }
  {
    name: 'WINDOW_MINUTES'
    value: string(windowMinutes)
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
  {
    name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
    value: 'Authorization=AAD;ClientId=${identityClientId}'
  }
]

// Overrides host.json when the Durable Task Scheduler backend is chosen (no keys: the identity).
var durableTaskSchedulerAppSettings = useDurableTaskScheduler ? [
  {
    name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__type'
    value: 'azureManaged'
  }
  {
    name: 'AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName'
    value: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
  }
  {
    name: 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'
    value: 'Endpoint=${durableTaskSchedulerEndpoint};Authentication=ManagedIdentity;ClientID=${identityClientId}'
  }
] : []

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    // No `ftpsState` here: Flex Consumption lists it among its unsupported site properties (with
    // alwaysOn, use32BitWorkerProcess, linuxFxVersion, functionAppScaleLimit and others) and rejects the
    // site with ARM error 51021. FTP and FTPS are off through `ftpPublishing` below.
    // checkov:skip=CKV_AZURE_78: FTP is disabled by the basicPublishingCredentialsPolicies/ftp allow:false policy; Flex Consumption rejects siteConfig.ftpsState
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      http20Enabled: true
      appSettings: concat(baseAppSettings, durableTaskSchedulerAppSettings)
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageBlobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
  }
}

// No basic (user/password) publishing credentials: deployments authenticate with Entra ID. The `ftp`
// policy is also what keeps FTP/FTPS off, since Flex Consumption takes no `siteConfig.ftpsState`.
resource ftpPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmPublishing 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

@description('Required. Name of the function app.')
output name string = site.name

@description('Required. Resource ID of the function app.')
output resourceId string = site.id

@description('Required. Default host name of the function app.')
output defaultHostName string = site.properties.defaultHostName
