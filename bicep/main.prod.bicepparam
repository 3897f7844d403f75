// Production environment: geo-zone-redundant storage, more partitions and throughput,
// autoscale Cosmos DB, longer retention, alerts by e-mail.
//   az deployment group create -g <rg> -f bicep/main.bicep -p bicep/main.prod.bicepparam
using './main.bicep'

param workloadName = 'evpipe'
param environmentName = 'prod'

// No personal data access in production.
param deployerPrincipalId = ''

param storageSkuName = 'Standard_GZRS'
param batchRetentionDays = 14

// Partitions cannot be changed after creation on Standard: size for the peak.
param eventHubThroughputUnits = 4
param eventHubPartitionCount = 16
param eventHubMessageRetentionInDays = 7

param cosmosCapacityMode = 'autoscale'
param cosmosAutoscaleMaxThroughput = 10000
param cosmosZoneRedundant = true
// Duplicate detection reaches back as far as events are kept: longer than the Event Hubs retention
// and any replay you may run. Aggregate rows are kept for good (Power BI reads them).
param eventRetentionDays = 90
param aggregateRetentionDays = 0

param functionInstanceMemoryMB = 2048
param functionMaximumInstanceCount = 200

// 'durableTaskScheduler' is the higher-throughput managed backend; switching loses in-flight
// orchestrations (no migration between backends), so choose before the first deployment.
param durableBackend = 'azureStorage'

param logRetentionInDays = 90
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL_ADDRESS', '')
param deadLetterAlertThreshold = 0
param eventHubBacklogAlertThreshold = 50000
