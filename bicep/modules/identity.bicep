// The one user-assigned managed identity that every connection of the function app uses.
// User-assigned (not system-assigned) so that role assignments can be made before the app exists
// and survive a re-creation of the app.

@description('Required. Name of the user-assigned managed identity.')
param name string

@description('Optional. Azure region of the identity.')
param location string = resourceGroup().location

@description('Optional. Tags applied to the identity.')
param tags object = {}

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

@description('Required. Name of the identity.')
output name string = identity.name

@description('Required. Resource ID of the identity.')
output resourceId string = identity.id

@description('Required. Object (principal) ID of the identity, for role assignments.')
output principalId string = identity.properties.principalId

@description('Required. Client ID of the identity, for the `__clientId` app settings.')
output clientId string = identity.properties.clientId
