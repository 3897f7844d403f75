// The event pipeline platform: Event Hubs / Blob (Event Grid) / HTTP ingest -> Python Durable
// Functions on Flex Consumption -> Cosmos DB. Managed identity everywhere, no keys.
// Deploy to a resource group:  az deployment group create -g <rg> -f bicep/main.bicep -p bicep/main.dev.bicepparam
targetScope = 'resourceGroup'

// ---------- naming and placement ----------

@description('Required. Short workload name used in every resource name: 3-9 lowercase letters or digits. Other characters are left out of the names (`Ev-Pipe` names resources `evpipe`), so the storage account name stays valid.')
@minLength(3)
@maxLength(9)
param workloadName string

@description('Optional. Environment name (for example dev, test, prod; azd passes its environment name, up to 64 characters). Resource names use its first 12 letters, digits or hyphens, lowercased; the tags carry it whole.')
@minLength(1)
@maxLength(64)
param environmentName string = 'dev'

@description('Optional. Azure region of every resource; it must offer Flex Consumption. Defaults to the resource group region.')
param location string = resourceGroup().location

@description('Optional. Extra tags applied to every resource.')
param tags object = {}

@description('Optional. Object ID of the deploying user or pipeline, granted data access for testing (blob upload, event send, Cosmos DB read). Empty for none.')
param deployerPrincipalId string = ''

@description('Optional. Principal type of `deployerPrincipalId`.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

// ---------- storage ----------

@description('Optional. Replication SKU of the storage account.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_GZRS'
])
param storageSkuName string = 'Standard_ZRS'

@description('Optional. Days the blobs of a batch (`batches/{batch id}/`: claim check, manifest, result) are kept. Its orchestration and the reconciliation sweep need them until the batch has a result, and a redelivery of the same batch id finds its result there. Longer than the Event Hubs retention.')
@minValue(8)
param batchRetentionDays int = 14

// ---------- Event Hubs ----------

@description('Optional. Event Hubs namespace tier.')
@allowed([
  'Standard'
  'Premium'
])
param eventHubSkuName string = 'Standard'

@description('Optional. Event Hubs throughput units of a Standard namespace (1 TU = 1 MB/s or 1,000 events/s in).')
@minValue(1)
@maxValue(40)
param eventHubThroughputUnits int = 1

@description('Optional. Event Hubs processing units of a Premium namespace: 1, 2, 4, 8 or 16.')
@allowed([
  1
  2
  4
  8
  16
])
param eventHubProcessingUnits int = 1

@description('Optional. Partitions of the event hub (bounds the function scale-out; fixed after creation on Standard).')
@minValue(1)
@maxValue(32)
param eventHubPartitionCount int = 4

@description('Optional. Days events are kept in the hub.')
@minValue(1)
@maxValue(7)
param eventHubMessageRetentionInDays int = 1

@description('Optional. Name of the event hub (app setting EVENTHUB_NAME).')
param eventHubName string = 'events'

@description('Optional. Consumer group of the function (app setting EVENTHUB_CONSUMER_GROUP).')
param eventHubConsumerGroupName string = 'pipeline'

// ---------- Cosmos DB ----------

@description('Optional. Cosmos DB capacity: `serverless` or `autoscale` (provisioned, shared by the database).')
@allowed([
  'serverless'
  'autoscale'
])
param cosmosCapacityMode string = 'serverless'

@description('Optional. Maximum RU/s of the database when `cosmosCapacityMode` is `autoscale`.')
@minValue(1000)
@maxValue(1000000)
param cosmosAutoscaleMaxThroughput int = 1000

@description('Optional. Name of the Cosmos DB database (app setting COSMOS_DATABASE).')
param cosmosDatabaseName string = 'pipeline'

@description('Optional. Zone-redundant Cosmos DB region.')
param cosmosZoneRedundant bool = false

@description('Optional. Days an event document is kept in the `events` container (its `defaultTtl`); the `contributions/folded/` markers are kept as long. Duplicate detection compares each event with the stored ones, so an event delivered again after its document expired is stored and counted again: keep it longer than any redelivery or replay (Event Hubs retention, Event Grid retries, producer resends, dead-letter replays). 30 to 24855 days.')
@minValue(30)
@maxValue(24855)
param eventRetentionDays int = 90

@description('Optional. Days an aggregate row is kept in the `aggregates` container (its `defaultTtl`); 0 keeps rows for good. Power BI reads these rows: an expired window disappears from its reports.')
@minValue(0)
@maxValue(24855)
param aggregateRetentionDays int = 0

// ---------- function app ----------

@description('Optional. Memory of each Flex Consumption instance in MB.')
@allowed([
  512
  2048
  4096
])
param functionInstanceMemoryMB int = 2048

@description('Optional. Maximum instances of the function app.')
@minValue(40)
@maxValue(1000)
param functionMaximumInstanceCount int = 100

@description('Optional. Aggregation window in minutes (app setting WINDOW_MINUTES).')
@minValue(1)
param windowMinutes int = 1

@description('Optional. Durable Functions backend: `azureStorage` (host storage account) or `durableTaskScheduler` (managed scheduler). There is no data migration between them.')
@allowed([
  'azureStorage'
  'durableTaskScheduler'
])
param durableBackend string = 'azureStorage'

@description('Optional. Durable Task Scheduler SKU when `durableBackend` is `durableTaskScheduler`.')
@allowed([
  'Consumption'
  'Dedicated'
])
param durableTaskSchedulerSkuName string = 'Consumption'

// ---------- monitoring ----------

@description('Optional. Days logs are kept in Log Analytics.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int = 30

@description('Optional. E-mail address notified by the alert rules; empty for none.')
param alertEmailAddress string = ''

@description('Optional. Blob writes to `deadletter` in 15 minutes above which the dead-letter alert fires.')
@minValue(0)
param deadLetterAlertThreshold int = 0

@description('Optional. Unread events over 30 minutes above which the Event Hubs backlog alert fires.')
@minValue(0)
param eventHubBacklogAlertThreshold int = 10000

// ---------- names ----------

// Task hub name: must equal `extensions.durableTask.hubName` in host.json.
var durableTaskHubName = 'EventPipeline'

// Blob containers the pipeline reads and writes, plus the Flex deployment package container.
var dataContainerNames = [
  'incoming'
  'batches'
  'deadletter'
  'reference'
  'analytics'
  'contributions'
]
var deploymentContainerName = 'deployment-package'

// Resource names keep only characters every resource type here accepts: lowercase letters and digits
// from the workload (the storage account allows nothing else), plus hyphens from the environment,
// whose first 12 such characters are used (names must fit 24-44 characters). Bicep has no regex, so
// each part is split into characters and filtered. The split is a `for` expression in a variable of
// its own, not `map()`: checkov's Bicep parser (pycep 0.5.1) cannot read `map()` and would silently
// skip this file.
var nameCharacters = 'abcdefghijklmnopqrstuvwxyz0123456789'
var workloadCharacters = [for i in range(0, length(workloadName)): substring(toLower(workloadName), i, 1)]
var environmentCharacters = [for i in range(0, length(environmentName)): substring(toLower(environmentName), i, 1)]
var nameWorkload = join(filter(workloadCharacters, c => contains(nameCharacters, c)), '')
var nameEnvironment = take(join(filter(environmentCharacters, c => contains('${nameCharacters}-', c)), ''), 12)

// The token hashes the parameters as given, so names are unique per workload and environment name.
var token = uniqueString(resourceGroup().id, workloadName, environmentName)
var prefix = '${nameWorkload}-${nameEnvironment}'
var allTags = union(tags, {
  workload: workloadName
  environment: environmentName
})
var useDurableTaskScheduler = durableBackend == 'durableTaskScheduler'

// ---------- resources ----------

module identity 'modules/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-${prefix}-${token}'
    location: location
    tags: allTags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${prefix}-${token}'
    appInsightsName: 'appi-${prefix}-${token}'
    location: location
    tags: allTags
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: take('st${nameWorkload}${token}', 24)
    location: location
    tags: allTags
    skuName: storageSkuName
    containerNames: concat(dataContainerNames, [
      deploymentContainerName
    ])
    batchRetentionDays: batchRetentionDays
    // A fold marker must outlive the events it stands for: a batch id delivered again after its
    // `batches/` blobs are gone takes its stored events for its own and queues their contribution again.
    foldedMarkerRetentionDays: eventRetentionDays
  }
}

module eventHubs 'modules/eventhubs.bicep' = {
  name: 'eventhubs'
  params: {
    namespaceName: 'evhns-${prefix}-${token}'
    location: location
    tags: allTags
    skuName: eventHubSkuName
    throughputUnits: eventHubThroughputUnits
    processingUnits: eventHubProcessingUnits
    eventHubName: eventHubName
    partitionCount: eventHubPartitionCount
    messageRetentionInDays: eventHubMessageRetentionInDays
    consumerGroupName: eventHubConsumerGroupName
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    accountName: 'cosmos-${prefix}-${token}'
    location: location
    tags: allTags
    capacityMode: cosmosCapacityMode
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    databaseName: cosmosDatabaseName
    zoneRedundant: cosmosZoneRedundant
    eventRetentionDays: eventRetentionDays
    aggregateRetentionDays: aggregateRetentionDays
  }
}

module durableTaskScheduler 'modules/durable-scheduler.bicep' = if (useDurableTaskScheduler) {
  name: 'durable-task-scheduler'
  params: {
    name: 'dts-${prefix}-${token}'
    location: location
    tags: allTags
    skuName: durableTaskSchedulerSkuName
    taskHubName: durableTaskHubName
    principalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    eventHubNamespaceName: eventHubs.outputs.name
    cosmosAccountName: cosmos.outputs.name
    appInsightsName: monitoring.outputs.appInsightsName
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: deployerPrincipalType
  }
}

module functionApp 'modules/functionapp.bicep' = {
  name: 'functionapp'
  params: {
    name: 'func-${prefix}-${token}'
    planName: 'plan-${prefix}-${token}'
    location: location
    tags: allTags
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    pythonVersion: '3.11'
    instanceMemoryMB: functionInstanceMemoryMB
    maximumInstanceCount: functionMaximumInstanceCount
    storageBlobEndpoint: storage.outputs.blobEndpoint
    storageQueueEndpoint: storage.outputs.queueEndpoint
    storageTableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    eventHubFullyQualifiedNamespace: eventHubs.outputs.fullyQualifiedNamespace
    eventHubName: eventHubs.outputs.eventHubName
    eventHubConsumerGroupName: eventHubs.outputs.consumerGroupName
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmosDatabaseName
    windowMinutes: windowMinutes
    appInsightsName: monitoring.outputs.appInsightsName
    // The scheduler module exists only with that backend: `.?` reads null without it (no BCP318), and
    // `??` turns that into the empty endpoint that keeps the Azure Storage backend.
    durableTaskSchedulerEndpoint: durableTaskScheduler.?outputs.endpoint ?? ''
  }
  // The app starts with the identity's roles in place (they still take minutes to apply).
  dependsOn: [
    rbac
  ]
}

module eventGrid 'modules/eventgrid.bicep' = {
  name: 'eventgrid'
  params: {
    name: 'evgt-${prefix}-${token}'
    location: location
    tags: allTags
    storageAccountId: storage.outputs.resourceId
  }
}

module diagnostics 'modules/diagnostics.bicep' = {
  name: 'diagnostics'
  params: {
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    storageAccountName: storage.outputs.name
    eventHubNamespaceName: eventHubs.outputs.name
    cosmosAccountName: cosmos.outputs.name
    functionAppName: functionApp.outputs.name
  }
}

module alerts 'modules/alerts.bicep' = {
  name: 'alerts'
  params: {
    namePrefix: prefix
    location: location
    tags: allTags
    alertEmailAddress: alertEmailAddress
    workspaceResourceId: monitoring.outputs.workspaceResourceId
    appInsightsResourceId: monitoring.outputs.appInsightsResourceId
    storageAccountName: storage.outputs.name
    eventHubNamespaceName: eventHubs.outputs.name
    eventHubNamespaceResourceId: eventHubs.outputs.resourceId
    deadLetterThreshold: deadLetterAlertThreshold
    eventHubBacklogThreshold: eventHubBacklogAlertThreshold
  }
}

module workbook 'modules/workbook.bicep' = {
  name: 'workbook'
  params: {
    displayName: 'Event pipeline (${prefix})'
    location: location
    tags: allTags
    appInsightsResourceId: monitoring.outputs.appInsightsResourceId
  }
}

// ---------- outputs (azd stores them as environment values for the postdeploy hook) ----------

@description('Required. Name of the function app.')
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name

@description('Required. Name of the Event Grid system topic on the storage account.')
output AZURE_EVENTGRID_SYSTEM_TOPIC_NAME string = eventGrid.outputs.name

@description('Required. Name of the storage account.')
output AZURE_STORAGE_ACCOUNT_NAME string = storage.outputs.name

@description('Required. Host name of the Event Hubs namespace.')
output AZURE_EVENTHUB_NAMESPACE string = eventHubs.outputs.fullyQualifiedNamespace

@description('Required. Document endpoint of the Cosmos DB account.')
output AZURE_COSMOS_ENDPOINT string = cosmos.outputs.endpoint

@description('Required. Principal ID of the function app identity.')
output AZURE_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
