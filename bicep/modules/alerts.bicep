// Alert rules: function failures, dead-letter growth, Event Hubs backlog and throttling.
// With no e-mail address the rules still fire and show in the portal, without notifications.

@description('Required. Prefix of the alert rule names.')
param namePrefix string

@description('Optional. Azure region of the log alert rules.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the alert rules.')
param tags object = {}

@description('Optional. E-mail address notified by the alerts; empty for none.')
param alertEmailAddress string = ''

@description('Required. Resource ID of the Log Analytics workspace that receives the diagnostic logs.')
param workspaceResourceId string

@description('Required. Resource ID of the Application Insights component of the function app.')
param appInsightsResourceId string

@description('Required. Name of the storage account that holds the `deadletter` container.')
param storageAccountName string

@description('Required. Name of the Event Hubs namespace.')
param eventHubNamespaceName string

@description('Required. Resource ID of the Event Hubs namespace.')
param eventHubNamespaceResourceId string

@description('Optional. Failed function executions in 15 minutes above which the failure alert fires.')
@minValue(0)
param functionFailureThreshold int = 5

@description('Optional. Blob writes to `deadletter` in 15 minutes above which the dead-letter alert fires.')
@minValue(0)
param deadLetterThreshold int = 0

@description('Optional. Events received but not read in 30 minutes above which the backlog alert fires.')
@minValue(0)
param eventHubBacklogThreshold int = 10000

var hasActionGroup = !empty(alertEmailAddress)

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (hasActionGroup) {
  name: 'ag-${namePrefix}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: take(replace(namePrefix, '-', ''), 12)
    enabled: true
    emailReceivers: [
      {
        name: 'owner'
        emailAddress: alertEmailAddress
        useCommonAlertSchema: true
      }
    ]
  }
}

// The action group exists only with an e-mail address: its id is read with `.?` and `??` (no BCP318),
// and used only under the same condition.
var metricAlertActions = hasActionGroup ? [
  {
    actionGroupId: actionGroup.?id ?? ''
  }
] : []

var logAlertActionGroups = hasActionGroup ? [
  actionGroup.?id ?? ''
] : []

// Every function execution is an Application Insights request; a failed one has success = false.
resource functionFailures 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${namePrefix}-function-failures'
  location: 'global'
  tags: tags
  properties: {
    description: 'Function executions are failing.'
    severity: 2
    enabled: true
    scopes: [
      appInsightsResourceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'FailedExecutions'
          metricNamespace: 'microsoft.insights/components'
          metricName: 'requests/failed'
          operator: 'GreaterThan'
          threshold: functionFailureThreshold
          timeAggregation: 'Count'
        }
      ]
    }
    actions: metricAlertActions
  }
}

// Throughput units exhausted: senders are being throttled.
resource eventHubThrottling 'Microsoft.Insights/metricAlerts@2018-03-01' = {
  name: 'alert-${namePrefix}-eventhub-throttled'
  location: 'global'
  tags: tags
  properties: {
    description: 'Event Hubs requests are throttled: raise the throughput units.'
    severity: 2
    enabled: true
    scopes: [
      eventHubNamespaceResourceId
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    autoMitigate: true
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: 'ThrottledRequests'
          metricNamespace: 'Microsoft.EventHub/namespaces'
          metricName: 'ThrottledRequests'
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    actions: metricAlertActions
  }
}

// Blob writes into the `deadletter` container, from the blob service diagnostic logs.
// StorageBlobLogs.StatusCode is a string ("Unknown" when a request is interrupted): it is converted
// before the range test, which on the string itself would match nothing.
var deadLetterQuery = 'StorageBlobLogs | where AccountName == "${storageAccountName}" | where OperationName in ("PutBlob", "PutBlockList", "CopyBlob", "AppendBlock") | where toint(StatusCode) between (200 .. 299) | where ObjectKey startswith "/${storageAccountName}/deadletter/"'

resource deadLetterGrowth 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-${namePrefix}-deadletter-growth'
  location: location
  tags: tags
  properties: {
    displayName: 'alert-${namePrefix}-deadletter-growth'
    description: 'Events are being dead-lettered: inspect the deadletter container.'
    severity: 2
    enabled: true
    scopes: [
      workspaceResourceId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    autoMitigate: true
    // The tables appear only once the diagnostic settings deliver data: do not validate at creation.
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: deadLetterQuery
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: deadLetterThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: logAlertActionGroups
    }
  }
}

// Events in minus events out over the window, from the namespace metrics. Event Hubs exposes no
// per-consumer-group lag metric; with one consumer group this difference approximates its backlog.
var backlogQuery = 'AzureMetrics | where ResourceProvider == "MICROSOFT.EVENTHUB" and Resource =~ "${eventHubNamespaceName}" | where MetricName in ("IncomingMessages", "OutgoingMessages") | summarize Incoming = sumif(Total, MetricName == "IncomingMessages"), Outgoing = sumif(Total, MetricName == "OutgoingMessages") | extend Backlog = Incoming - Outgoing'

resource eventHubBacklog 'Microsoft.Insights/scheduledQueryRules@2023-03-15-preview' = {
  name: 'alert-${namePrefix}-eventhub-backlog'
  location: location
  tags: tags
  properties: {
    displayName: 'alert-${namePrefix}-eventhub-backlog'
    description: 'The function is falling behind the event hub.'
    severity: 2
    enabled: true
    scopes: [
      workspaceResourceId
    ]
    evaluationFrequency: 'PT15M'
    windowSize: 'PT30M'
    autoMitigate: true
    // The tables appear only once the diagnostic settings deliver data: do not validate at creation.
    skipQueryValidation: true
    criteria: {
      allOf: [
        {
          query: backlogQuery
          metricMeasureColumn: 'Backlog'
          timeAggregation: 'Maximum'
          operator: 'GreaterThan'
          threshold: eventHubBacklogThreshold
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    actions: {
      actionGroups: logAlertActionGroups
    }
  }
}
