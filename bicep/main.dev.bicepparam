// Development environment: smallest footprint, scale to zero, serverless Cosmos DB.
//   az deployment group create -g <rg> -f bicep/main.bicep -p bicep/main.dev.bicepparam
using './main.bicep'

param workloadName = 'evpipe'
param environmentName = 'dev'

// Object ID of the deploying user (az ad signed-in-user show --query id -o tsv), for test access.
param deployerPrincipalId = readEnvironmentVariable('DEPLOYER_PRINCIPAL_ID', '')

param storageSkuName = 'Standard_LRS'
param batchRetentionDays = 14

param eventHubThroughputUnits = 1
param eventHubPartitionCount = 4
param eventHubMessageRetentionInDays = 1

param cosmosCapacityMode = 'serverless'
// Events are kept a month (the shortest allowed): a redelivery older than that is stored again.
param eventRetentionDays = 30
param aggregateRetentionDays = 0

param functionInstanceMemoryMB = 2048
param functionMaximumInstanceCount = 40

param durableBackend = 'azureStorage'

param logRetentionInDays = 30
param alertEmailAddress = readEnvironmentVariable('ALERT_EMAIL_ADDRESS', '')
