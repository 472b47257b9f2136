package web

import (
	"studio/handlers"

	"github.com/labstack/echo/v4"
)

// routes lists every route of the server in one place.
func routes(e *echo.Echo, h *handlers.Handlers, cfg Config) {
	e.GET("/healthz", h.Health)
	e.GET("/static/*", staticHandler())

	console := e.Group("", csrf(cfg.CookieSecure), h.LoadUser)
	console.GET("/signin", h.SignInPage)
	console.POST("/signin", h.SignIn)

	signedIn := console.Group("", h.RequireUser)
	signedIn.POST("/signout", h.SignOut)
	signedIn.GET("/", h.Organizations)
	signedIn.GET("/account/password", h.PasswordPage)
	signedIn.POST("/account/password", h.ChangePassword)

	signedIn.GET("/orgs/:org", h.Organization)
	signedIn.POST("/orgs/:org/projects", h.CreateProject)
	signedIn.GET("/orgs/:org/audit", h.OrganizationAudit)

	signedIn.GET("/projects/:project", h.Project)
	signedIn.GET("/projects/:project/settings", h.ProjectSettings)
	signedIn.POST("/projects/:project/settings", h.UpdateProject)
	signedIn.GET("/projects/:project/delete", h.DeleteProjectPage)
	signedIn.POST("/projects/:project/delete", h.DeleteProject)

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

	// Members, organization admins, invitations and access overview.

	// Support console and audit views.
}
