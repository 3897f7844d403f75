// Durable Task Scheduler backend for Durable Functions (deployed only when chosen in main.bicep).
// Its role assignment lives here because the scheduler exists only in that configuration.

@description('Required. Name of the scheduler (3-64 letters, digits and hyphens).')
param name string

@description('Optional. Azure region of the scheduler.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the scheduler.')
param tags object = {}

@description('Optional. Billing SKU of the scheduler.')
@allowed([
  'Consumption'
  'Dedicated'
])
param skuName string = 'Consumption'

@description('Optional. Capacity units when `skuName` is `Dedicated`.')
@minValue(1)
param dedicatedCapacity int = 1

@description('Required. Task hub name; must equal `extensions.durableTask.hubName` in host.json.')
param taskHubName string

@description('Optional. IP ranges allowed to reach the scheduler. An empty list denies all traffic.')
param ipAllowlist array = [
  '0.0.0.0/0'
]

@description('Required. Principal ID of the function app identity.')
param principalId string

@description('Optional. Principal ID of the deploying user, granted the same role for the dashboard. Empty for none.')
param deployerPrincipalId string = ''

@description('Optional. Principal type of the deploying principal.')
@allowed([
  'User'
  'ServicePrincipal'
  'Group'
])
param deployerPrincipalType string = 'User'

// Durable Task Data Contributor (built-in role).
var durableTaskDataContributorRoleId = '0ad04412-c4d5-4796-b79c-f76d14c8d402'

resource scheduler 'Microsoft.DurableTask/schedulers@2025-11-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    ipAllowlist: ipAllowlist
    sku: skuName == 'Dedicated' ? {
      name: skuName
      capacity: dedicatedCapacity
    } : {
      name: skuName
    }
  }
}

resource taskHub 'Microsoft.DurableTask/schedulers/taskHubs@2025-11-01' = {
  parent: scheduler
  name: taskHubName
}

resource appRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(scheduler.id, principalId, durableTaskDataContributorRoleId)
  scope: scheduler
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributorRoleId)
  }
}

resource deployerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(scheduler.id, deployerPrincipalId, durableTaskDataContributorRoleId)
  scope: scheduler
  properties: {
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', durableTaskDataContributorRoleId)
  }
}

@description('Required. Name of the scheduler.')
output name string = scheduler.name

@description('Required. Resource ID of the scheduler.')
output resourceId string = scheduler.id

@description('Required. Endpoint of the scheduler, for DURABLE_TASK_SCHEDULER_CONNECTION_STRING.')
output endpoint string = scheduler.properties.endpoint

@description('Required. Name of the task hub.')
output taskHubName string = taskHub.name
