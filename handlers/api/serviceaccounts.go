package api

import (
	"time"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

// ListServiceAccounts is GET /v2/projects/{p}/serviceaccounts.
func (a *API) ListServiceAccounts(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	_, page, err := a.serviceAccounts.List(c.Request().Context(), principal(c), c.Param("project"), "", req)
	if err != nil {
		return err
	}
	return ok(c, map[string]any{"serviceAccounts": mapItems(page.Items, toServiceAccount), "nextPageToken": page.NextPageToken})
}

// serviceAccountBody is a service account in a request; read-only fields are ignored.
type serviceAccountBody struct {
	Name            *string `json:"name"`
	Email           *string `json:"email"`
	DisplayName     *string `json:"displayName"`
	EnableBasicAuth *bool   `json:"enableBasicAuth"`
	CreateTime      *string `json:"createTime"`
	UpdateTime      *string `json:"updateTime"`
}

// DefaultServiceAccountName names an account created without a display name.
const DefaultServiceAccountName = "Service account"

// CreateServiceAccount is POST /v2/projects/{p}/serviceaccounts; the body is optional.
func (a *API) CreateServiceAccount(c echo.Context) error {
	var body serviceAccountBody
	if err := decode(c, &body); err != nil {
		return err
	}
	if body.DisplayName == nil {
		name := DefaultServiceAccountName
		body.DisplayName = &name
	}
	sa, err := a.serviceAccounts.Create(c.Request().Context(), principal(c), c.Param("project"),
		domain.ServiceAccountInput{DisplayName: body.DisplayName, EnableBasicAuth: body.EnableBasicAuth})
	if err != nil {
		return err
	}
	return ok(c, toServiceAccount(sa))
}

// GetServiceAccount is GET /v2/projects/{p}/serviceaccounts/{sa}.
func (a *API) GetServiceAccount(c echo.Context) error {
	v, err := a.serviceAccounts.Get(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"))
	if err != nil {
		return err
	}
	if fullView(c) {
		return ok(c, toServiceAccountFull(v.Account))
	}
	return ok(c, toServiceAccount(v.Account))
}

// UpdateServiceAccount is PATCH /v2/projects/{p}/serviceaccounts/{sa}.
func (a *API) UpdateServiceAccount(c echo.Context) error {
	mask, err := updateMask(c, "displayName", "enableBasicAuth")
	if err != nil {
		return err
	}
	var body serviceAccountBody
	if err := decode(c, &body); err != nil {
		return err
	}
	in := domain.ServiceAccountInput{DisplayName: body.DisplayName, EnableBasicAuth: body.EnableBasicAuth}
	if mask != nil {
		in = domain.ServiceAccountInput{}
		if mask["displayName"] {
			in.DisplayName = orZero(body.DisplayName)
		}
		if mask["enableBasicAuth"] {
			in.EnableBasicAuth = orZero(body.EnableBasicAuth)
		}
	}
	sa, err := a.serviceAccounts.Update(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), in)
	if err != nil {
		return err
	}
	return ok(c, toServiceAccount(sa))
}

// DeleteServiceAccount is DELETE /v2/projects/{p}/serviceaccounts/{sa}.
func (a *API) DeleteServiceAccount(c echo.Context) error {
	if err := a.serviceAccounts.Delete(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa")); err != nil {
		return err
	}
	return ok(c, struct{}{})
}

// ListKeys is GET /v2/projects/{p}/serviceaccounts/{sa}/keys.
func (a *API) ListKeys(c echo.Context) error {
	req, err := pageRequest(c)
	if err != nil {
		return err
	}
	projectID := c.Param("project")
	page, err := a.serviceAccounts.ListKeys(c.Request().Context(), principal(c), projectID, c.Param("sa"), req)
	if err != nil {
		return err
	}
	if fullView(c) {
		return ok(c, map[string]any{"keys": mapItems(page.Items, func(k domain.Key) keyFullJSON { return a.toKeyFull(projectID, k) }),
			"nextPageToken": page.NextPageToken})
	}
	return ok(c, map[string]any{"keys": mapItems(page.Items, func(k domain.Key) keyJSON { return toKey(projectID, k) }),
		"nextPageToken": page.NextPageToken})
}

// CreateKey is POST /v2/projects/{p}/serviceaccounts/{sa}/keys: the only
// response that ever carries the secret. Beyond the contract, the body may
// ask for an expiry ({"expireTime": RFC 3339}) within the organization's
// maximum key lifetime; without one the organization's default applies.
func (a *API) CreateKey(c echo.Context) error {
	projectID, accountID := c.Param("project"), c.Param("sa")
	// Refuse who may not create keys before reading the body.
	if err := a.authorize(c, accountID, domain.OpKeyCreate); err != nil {
		return err
	}
	var body struct {
		ExpireTime *string `json:"expireTime"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	var opts domain.KeyOptions
	if body.ExpireTime != nil && *body.ExpireTime != "" {
		t, err := time.Parse(time.RFC3339Nano, *body.ExpireTime)
		if err != nil {
			return domain.FieldError("expireTime", "expireTime must be an RFC 3339 time such as 2030-01-02T15:04:05Z.")
		}
		opts.ExpireTime = t
	}
	k, secret, err := a.serviceAccounts.CreateKeyWith(c.Request().Context(), principal(c), projectID, accountID, opts)
	if err != nil {
		return err
	}
	if fullView(c) {
		return ok(c, map[string]any{"key": a.toKeyFull(projectID, k), "secret": secret})
	}
	return ok(c, map[string]any{"key": toKey(projectID, k), "secret": secret})
}

// GetKey is GET /v2/projects/{p}/serviceaccounts/{sa}/keys/{k}.
func (a *API) GetKey(c echo.Context) error {
	projectID := c.Param("project")
	k, err := a.serviceAccounts.GetKey(c.Request().Context(), principal(c), projectID, c.Param("sa"), c.Param("key"))
	if err != nil {
		return err
	}
	if fullView(c) {
		return ok(c, a.toKeyFull(projectID, k))
	}
	return ok(c, toKey(projectID, k))
}

// DeleteKey is DELETE /v2/projects/{p}/serviceaccounts/{sa}/keys/{k}.
func (a *API) DeleteKey(c echo.Context) error {
	if err := a.serviceAccounts.DeleteKey(c.Request().Context(), principal(c), c.Param("project"), c.Param("sa"), c.Param("key")); err != nil {
		return err
	}
	return ok(c, struct{}{})
}
