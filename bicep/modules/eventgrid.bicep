// Event Grid system topic on the storage account: the source of the Event Grid blob trigger.
// The subscription to `blob_ingest` is NOT created here: its webhook URL needs the app's
// `blobs_extension` system key, which exists only after the code is deployed. It is created by
// scripts/infra/create-eventgrid-subscription.sh (the azd postdeploy hook).

@description('Required. Name of the system topic.')
param name string

@description('Optional. Azure region; must be the storage account region.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the topic.')
param tags object = {}

@description('Required. Resource ID of the storage account that raises the blob events.')
param storageAccountId string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

@description('Required. Name of the system topic.')
output name string = systemTopic.name

@description('Required. Resource ID of the system topic.')
output resourceId string = systemTopic.id
