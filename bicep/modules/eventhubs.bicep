// Event Hubs namespace, the ingest hub and the function's own consumer group.
// Local (SAS) authentication is disabled: senders and the function use Entra ID.

@description('Required. Name of the Event Hubs namespace.')
param namespaceName string

@description('Optional. Azure region of the namespace.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the namespace.')
param tags object = {}

@description('Optional. Pricing tier of the namespace.')
@allowed([
  'Standard'
  'Premium'
])
param skuName string = 'Standard'

@description('Optional. Throughput units of a Standard namespace (1-40). 1 TU = 1 MB/s or 1,000 events/s in.')
@minValue(1)
@maxValue(40)
param throughputUnits int = 1

@description('Optional. Processing units of a Premium namespace: 1, 2, 4, 8 or 16.')
@allowed([
  1
  2
  4
  8
  16
])
param processingUnits int = 1

@description('Optional. Let a Standard namespace raise its throughput units up to `maximumThroughputUnits` under load. Auto-inflate does not scale back down.')
param autoInflateEnabled bool = false

@description('Optional. Upper bound for auto-inflate, 1-40 (raised to `throughputUnits` if lower; ignored when auto-inflate is off).')
@minValue(1)
@maxValue(40)
param maximumThroughputUnits int = 10

@description('Required. Name of the event hub the pipeline ingests from.')
param eventHubName string

@description('Optional. Partitions of the hub; the function scales to at most one instance per partition. Fixed after creation on Standard.')
@minValue(1)
@maxValue(32)
param partitionCount int = 4

@description('Optional. Days events are kept in the hub (Standard allows 1-7).')
@minValue(1)
@maxValue(7)
param messageRetentionInDays int = 1

@description('Required. Name of the consumer group the function reads with.')
param consumerGroupName string

// Premium is sized in processing units, Standard in throughput units. Auto-inflate exists on Standard
// only; its maximum must be at least the namespace's throughput units.
var isPremium = skuName == 'Premium'
var autoInflate = !isPremium && autoInflateEnabled

resource namespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: namespaceName
  location: location
  tags: tags
  sku: {
    name: skuName
    tier: skuName
    capacity: isPremium ? processingUnits : throughputUnits
  }
  properties: {
    disableLocalAuth: true
    minimumTlsVersion: '1.2'
    publicNetworkAccess: 'Enabled'
    isAutoInflateEnabled: autoInflate
    maximumThroughputUnits: autoInflate ? max(throughputUnits, maximumThroughputUnits) : 0
  }
}

resource hub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: namespace
  name: eventHubName
  properties: {
    partitionCount: partitionCount
    messageRetentionInDays: messageRetentionInDays
  }
}

resource consumerGroup 'Microsoft.EventHub/namespaces/eventhubs/consumergroups@2024-01-01' = {
  parent: hub
  name: consumerGroupName
  properties: {}
}

@description('Required. Name of the namespace.')
output name string = namespace.name

@description('Required. Resource ID of the namespace.')
output resourceId string = namespace.id

@description('Required. Host name of the namespace (<namespace>.servicebus.windows.net), for `EventHubConnection__fullyQualifiedNamespace`.')
output fullyQualifiedNamespace string = replace(replace(namespace.properties.serviceBusEndpoint, 'https://', ''), ':443/', '')

@description('Required. Name of the event hub.')
output eventHubName string = hub.name

@description('Required. Name of the consumer group.')
output consumerGroupName string = consumerGroup.name
