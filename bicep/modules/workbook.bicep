// Azure Monitor workbook "Event pipeline": events in and out, dead letters by reason, batch duration,
// end-to-end latency, executions, stuck orchestrations, failures, and one batch followed by its id.
// The content is workbook.json beside this file (queries over the Application Insights telemetry;
// field names in docs/observability.md).

@description('Required. Display name of the workbook.')
param displayName string

@description('Optional. Azure region of the workbook.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the workbook.')
param tags object = {}

@description('Required. Resource ID of the Application Insights component whose telemetry the workbook reads.')
param appInsightsResourceId string

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  // A workbook's name must be a GUID: derived, so a redeployment updates the same workbook.
  name: guid(resourceGroup().id, appInsightsResourceId, 'event-pipeline-workbook')
  location: location
  tags: union(tags, {
    'hidden-title': displayName
  })
  kind: 'shared'
  properties: {
    displayName: displayName
    category: 'workbook'
    sourceId: appInsightsResourceId
    version: 'Notebook/1.0'
    serializedData: replace(loadTextContent('workbook.json'), '__APP_INSIGHTS_RESOURCE_ID__', appInsightsResourceId)
  }
}

@description('Required. Name (a GUID) of the workbook.')
output name string = workbook.name

@description('Required. Resource ID of the workbook.')
output resourceId string = workbook.id
