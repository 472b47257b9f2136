package web

import (
	"studio/handlers"
	"studio/handlers/api"

	"github.com/labstack/echo/v4"
)

// routes lists every route of the server in one place.
func routes(e *echo.Echo, h *handlers.Handlers, a *api.API, cfg Config) {
	e.GET("/healthz", h.Health)
	e.GET("/static/*", staticHandler())

	// The REST API v2 and the token endpoint (api-v2.md). No console session
	// and no CSRF token here: every request carries its own credentials.
	e.POST("/oauth2/token", a.Token)
	e.GET("/docs/api-errors", a.ErrorsDoc)
	// The API's reference: the OpenAPI document, and the page made of it.
	// Both public, registered before the /v2 group so no credentials are asked.
	e.GET("/v2/openapi.json", a.OpenAPI)
	e.GET("/docs/api", a.Reference)
	v2 := e.Group("/v2", a.Authenticate)
	v2.GET("/organizations", a.ListOrganizations)
	v2.GET("/organizations/:org", a.GetOrganization)
	v2.GET("/organizations/:org/members", a.ListOrganizationMembers)
	v2.POST("/organizations/:org/members", a.CreateOrganizationMember)
	v2.GET("/organizations/:org/members/:member", a.GetOrganizationMember) // and {m}:getInviteUrl
	v2.DELETE("/organizations/:org/members/:member", a.DeleteOrganizationMember)
	v2.GET("/organizations/:org/permissions", a.OrganizationPermissions)
	v2.GET("/projects", a.ListProjects)
	v2.POST("/projects", a.CreateProject)
	v2.POST("/projects\\:batchUpdate", a.BatchUpdateProjects)
	v2.GET("/projects/:project", a.GetProject)
	v2.PATCH("/projects/:project", a.UpdateProject)
	v2.DELETE("/projects/:project", a.DeleteProject)
	v2.GET("/projects/:project/members", a.ListProjectMembers) // and projects/-/members
	v2.POST("/projects/:project/members", a.CreateProjectMember)
	v2.POST("/projects/-/members\\:batchCreate", a.BatchCreateMembers)
	v2.POST("/projects/-/members\\:batchDelete", a.BatchDeleteMembers)
	v2.GET("/projects/:project/members/:member", a.GetProjectMember) // and {m}:getInviteUrl
	v2.PATCH("/projects/:project/members/:member", a.UpdateProjectMember)
	v2.DELETE("/projects/:project/members/:member", a.DeleteProjectMember)
	v2.GET("/projects/:project/permissions", a.ProjectPermissions)
	v2.GET("/projects/:project/serviceaccounts", a.ListServiceAccounts)
	v2.POST("/projects/:project/serviceaccounts", a.CreateServiceAccount)
	v2.GET("/projects/:project/serviceaccounts/:sa", a.GetServiceAccount)
	v2.PATCH("/projects/:project/serviceaccounts/:sa", a.UpdateServiceAccount)
	v2.DELETE("/projects/:project/serviceaccounts/:sa", a.DeleteServiceAccount)
	v2.GET("/projects/:project/serviceaccounts/:sa/keys", a.ListKeys)
	v2.POST("/projects/:project/serviceaccounts/:sa/keys", a.CreateKey)
	v2.GET("/projects/:project/serviceaccounts/:sa/keys/:key", a.GetKey)
	v2.DELETE("/projects/:project/serviceaccounts/:sa/keys/:key", a.DeleteKey)
	// Credential lifecycle (beyond the contract): {k}:rotate, :disable, :enable,
	// :reportCompromised; {sa}:disable, :enable; the key policy and the purge.
	v2.POST("/projects/:project/serviceaccounts/:sa/keys/:key", a.KeyAction)
	v2.POST("/projects/:project/serviceaccounts/:sa", a.ServiceAccountAction)
	v2.GET("/organizations/:org/keyPolicy", a.GetKeyPolicy)
	v2.PATCH("/organizations/:org/keyPolicy", a.UpdateKeyPolicy)
	v2.POST("/organizations/:org/keys\\:purgeExpired", a.PurgeExpiredKeys)
	// Devices, their events and the event stream (api-v2-devices.md).
	v2.GET("/projects/:project/devices", a.ListDevices) // and projects/-/devices
	v2.GET("/projects/:project/devices\\:stream", a.StreamDevices)
	v2.POST("/projects/:project/devices\\:batchUpdate", a.BatchUpdateDevices)
	v2.POST("/projects/:project/devices\\:transfer", a.TransferDevices)
	v2.GET("/projects/:project/devices/:device", a.GetDevice) // {p} may be -
	v2.GET("/projects/:project/devices/:device/events", a.ListDeviceEvents)
	v2.GET("/roles", a.ListRoles)
	v2.GET("/roles/:role", a.GetRole)
	v2.Any("/*", a.NotFound)
	// The emulator, at its own base beside /v2, with the same credentials.
	emu := e.Group("/emulator/v2", a.Authenticate)
	emu.POST("/projects/:project/devices", a.CreateEmulatedDevice)
	emu.GET("/projects/:project/devices", a.ListEmulatedDevices)
	emu.GET("/projects/:project/devices/:device", a.GetEmulatedDevice)
	emu.PUT("/projects/:project/devices/:device", a.ReplaceEmulatedDevice)
	emu.DELETE("/projects/:project/devices/:device", a.DeleteEmulatedDevice)
	emu.POST("/projects/:project/devices/:device", a.PublishEmulatedEvent) // {d}:publish
	emu.Any("/*", a.NotFound)

	// ProgramNotFound first: a program's request that matches no route gets
	// the API's JSON 404, never the sign-in redirect of the groups below.
	console := e.Group("", a.ProgramNotFound, csrf(cfg.CookieSecure), h.LoadUser)
	console.GET("/signin", h.SignInPage)
	console.POST("/signin", h.SignIn)
	// Sign-in beyond the password: second factor, passkeys, single sign-on.
	console.GET("/signin/verify", h.SecondFactorPage)
	console.POST("/signin/verify", h.SecondFactor)
	console.POST("/signin/verify/passkey", h.SecondFactorPasskeyOptions)
	console.POST("/signin/passkey/options", h.PasskeySignInOptions)
	console.POST("/signin/passkey", h.PasskeySignIn)
	console.GET("/signin/provider", h.SignInProvider)
	console.GET("/signin/sso/start", h.SSOBegin)
	console.GET("/signin/sso/callback", h.SSOCallback)
	console.GET("/signin/link", h.SSOLinkPage)
	console.POST("/signin/link", h.SSOLink)

	signedIn := console.Group("", h.RequireUser, h.Reauthenticate, h.OrgPolicy)
	signedIn.POST("/signout", h.SignOut)
	signedIn.GET("/", h.Organizations)
	signedIn.GET("/account/password", h.PasswordPage)
	signedIn.POST("/account/password", h.ChangePassword)
	signedIn.GET("/account/security", h.Security)
	signedIn.POST("/account/security/totp", h.BeginTOTP)
	signedIn.POST("/account/security/totp/confirm", h.ConfirmTOTP)
	signedIn.POST("/account/security/totp/disable", h.DisableTOTP)
	signedIn.POST("/account/security/recovery-codes", h.NewRecoveryCodes)
	signedIn.POST("/account/security/passkeys/new", h.BeginPasskey)
	signedIn.POST("/account/security/passkeys", h.FinishPasskey)
	signedIn.POST("/account/security/passkeys/:passkey/remove", h.RemovePasskey)
	signedIn.POST("/account/security/verify", h.VerifyFactor)
	signedIn.POST("/account/passkey-options", h.ConfirmPasskeyOptions)
	signedIn.GET("/signin/sso", h.SSOStartPage)
	signedIn.GET("/orgs/:org/security", h.OrgSecurity)
	signedIn.POST("/orgs/:org/security/policy", h.SaveSignInPolicy)
	signedIn.POST("/orgs/:org/security/sso", h.SaveSSO)
	signedIn.POST("/orgs/:org/security/sso/delete", h.DeleteSSO)
	signedIn.POST("/support/accounts/:member/second-factor/reset", h.SupportResetSecondFactor)

	signedIn.GET("/orgs/:org", h.Organization)
	signedIn.POST("/orgs/:org/projects", h.CreateProject)
	signedIn.GET("/orgs/:org/audit", h.OrganizationAudit)

	signedIn.GET("/projects/:project", h.Project)
	signedIn.GET("/projects/:project/settings", h.ProjectSettings)
	signedIn.POST("/projects/:project/settings", h.UpdateProject)
	signedIn.POST("/projects/:project/labels", h.AddProjectLabel)
	signedIn.POST("/projects/:project/labels/remove", h.RemoveProjectLabel)
	signedIn.GET("/projects/:project/delete", h.DeleteProjectPage)
	signedIn.POST("/projects/:project/delete", h.DeleteProject)

	// Devices and the emulator.
	signedIn.GET("/projects/:project/devices", h.Devices)
	signedIn.GET("/projects/:project/devices/live", h.DevicesLive)
	signedIn.POST("/projects/:project/devices/move", h.MoveDevices)
	signedIn.GET("/projects/:project/devices/:device", h.Device)
	signedIn.POST("/projects/:project/devices/:device/labels", h.SetDeviceLabel)
	signedIn.POST("/projects/:project/devices/:device/labels/remove", h.RemoveDeviceLabel)
	signedIn.GET("/projects/:project/emulator", h.Emulator)
	signedIn.POST("/projects/:project/emulator", h.CreateEmulated)
	signedIn.GET("/projects/:project/emulator/:device", h.Emulated)
	signedIn.POST("/projects/:project/emulator/:device/publish", h.PublishEmulated)
	signedIn.GET("/projects/:project/emulator/:device/delete", h.DeleteEmulatedPage)
	signedIn.POST("/projects/:project/emulator/:device/delete", h.DeleteEmulated)

	signedIn.GET("/projects/:project/serviceaccounts", h.ServiceAccounts)
	signedIn.POST("/projects/:project/serviceaccounts", h.CreateServiceAccount)
	signedIn.GET("/projects/:project/serviceaccounts/:sa", h.ServiceAccount)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/name", h.RenameServiceAccount)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/basicauth", h.SetServiceAccountBasicAuth)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/role", h.SetServiceAccountRole)
	signedIn.GET("/projects/:project/serviceaccounts/:sa/delete", h.DeleteServiceAccountPage)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/delete", h.DeleteServiceAccount)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/keys", h.CreateKey)
	signedIn.GET("/projects/:project/serviceaccounts/:sa/keys/:key/delete", h.DeleteKeyPage)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/keys/:key/delete", h.DeleteKey)

	// Credential lifecycle.
	signedIn.POST("/projects/:project/serviceaccounts/:sa/disable", h.DisableServiceAccount)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/enable", h.EnableServiceAccount)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/keys/:key/rotate", h.RotateKey)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/keys/:key/disable", h.DisableKey)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/keys/:key/enable", h.EnableKey)
	signedIn.GET("/projects/:project/serviceaccounts/:sa/keys/:key/compromised", h.ReportCompromisedPage)
	signedIn.POST("/projects/:project/serviceaccounts/:sa/keys/:key/compromised", h.ReportCompromised)
	signedIn.GET("/orgs/:org/settings", h.OrgSettings)
	signedIn.POST("/orgs/:org/settings", h.SaveOrgSettings)
	signedIn.POST("/orgs/:org/keys/purge", h.PurgeExpiredKeys)
	signedIn.POST("/support/accounts/:member/disable", h.SupportDisableServiceAccount)
	signedIn.POST("/support/accounts/:member/enable", h.SupportEnableServiceAccount)
	signedIn.POST("/support/accounts/:member/keys/:key/disable", h.SupportDisableKey)
	signedIn.POST("/support/accounts/:member/keys/:key/enable", h.SupportEnableKey)

	// Members, organization admins, invitations and access overview.
	console.GET("/invite/:token", h.InvitePage)
	console.POST("/invite/:token", h.AcceptInvite)
	signedIn.GET("/projects/:project/members", h.ProjectMembers)
	signedIn.POST("/projects/:project/members", h.InviteProjectMember)
	signedIn.POST("/projects/:project/members/:member/role", h.SetProjectMemberRole)
	signedIn.GET("/projects/:project/members/:member/remove", h.RemoveProjectMemberPage)
	signedIn.POST("/projects/:project/members/:member/remove", h.RemoveProjectMember)
	signedIn.POST("/projects/:project/members/:member/invite-link", h.ReissueProjectInvite)
	signedIn.GET("/orgs/:org/admins", h.OrgAdmins)
	signedIn.POST("/orgs/:org/admins", h.InviteOrgAdmin)
	signedIn.GET("/orgs/:org/admins/:member/revoke", h.RevokeOrgAdminPage)
	signedIn.POST("/orgs/:org/admins/:member/revoke", h.RevokeOrgAdmin)
	signedIn.POST("/orgs/:org/admins/:member/invite-link", h.ReissueOrgAdminInvite)
	signedIn.GET("/orgs/:org/members/:member/access", h.MemberAccess)
	signedIn.POST("/orgs/:org/members/:member/access", h.SaveMemberAccess)

	// Support console and audit views.
	signedIn.GET("/support", h.Support)
	signedIn.GET("/support/audit", h.SupportAudit)
	signedIn.GET("/support/accounts/:member", h.SupportAccount)
	signedIn.GET("/support/organizations/new", h.NewOrganizationPage)
	signedIn.POST("/support/organizations", h.CreateOrganization)
	signedIn.POST("/support/accounts/:member/memberships/remove", h.SupportRemoveMembership)
	signedIn.POST("/support/accounts/:member/remove-all", h.SupportRemoveAllAccess)
	signedIn.POST("/support/accounts/:member/keys/:key/delete", h.SupportDeleteKey)
	signedIn.POST("/support/accounts/:member/basic-auth-off", h.SupportBasicAuthOff)
	signedIn.POST("/support/accounts/:member/lock", h.SupportLock)
	signedIn.POST("/support/accounts/:member/unlock", h.SupportUnlock)

	// Credential hygiene.
	signedIn.GET("/orgs/:org/hygiene", h.OrgHygiene)
	signedIn.POST("/orgs/:org/hygiene/confirm", h.OrgHygieneConfirm)
	signedIn.POST("/orgs/:org/hygiene/apply", h.OrgHygieneApply)
	signedIn.GET("/support/hygiene", h.SupportHygiene)
	signedIn.POST("/support/hygiene/confirm", h.SupportHygieneConfirm)
	signedIn.POST("/support/hygiene/apply", h.SupportHygieneApply)
}
