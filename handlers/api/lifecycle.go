package api

import (
	"strconv"
	"strings"
	"time"

	"studio/domain"

	"github.com/labstack/echo/v4"
)

// Credential lifecycle endpoints (issue 8), beyond api-v2.md. The
// contract's shapes stay as they are: the lifecycle fields come only from
// these endpoints and from ?view=FULL on the key and account reads.
//
//	POST /v2/projects/{p}/serviceaccounts/{sa}/keys/{k}:rotate            {"gracePeriod":"86400s"} → {key, secret, rotatedKey}
//	POST /v2/projects/{p}/serviceaccounts/{sa}/keys/{k}:disable           → KeyFull
//	POST /v2/projects/{p}/serviceaccounts/{sa}/keys/{k}:enable            → KeyFull
//	POST /v2/projects/{p}/serviceaccounts/{sa}/keys/{k}:reportCompromised {"reason":"…"} → {key, tokensRevoked, reach}
//	POST /v2/projects/{p}/serviceaccounts/{sa}:disable | :enable          → ServiceAccountFull
//	GET|PATCH /v2/organizations/{o}/keyPolicy                             {defaultKeyLifetime, maxKeyLifetime}
//	POST /v2/organizations/{o}/keys:purgeExpired                          → {purgedKeys}
//	POST /v2/projects/{p}/serviceaccounts/{sa}/keys                       optional {"expireTime":"RFC 3339"}

// keyFullJSON is a key with its lifecycle. Times are "" when not set.
type keyFullJSON struct {
	Name           string `json:"name"`
	ID             string `json:"id"`
	CreateTime     string `json:"createTime"`
	State          string `json:"state"`
	Disabled       bool   `json:"disabled"`
	DisableTime    string `json:"disableTime"`
	Compromised    bool   `json:"compromised"`
	CompromiseTime string `json:"compromiseTime"`
	ExpireTime     string `json:"expireTime"`
	RotatedTo      string `json:"rotatedTo"`
	GraceEndTime   string `json:"graceEndTime"`
	LastUseTime    string `json:"lastUseTime"`
	LastUseVia     string `json:"lastUseVia"`
	LastUseFrom    string `json:"lastUseFrom"`
}

type serviceAccountFullJSON struct {
	serviceAccountJSON
	Disabled    bool   `json:"disabled"`
	DisableTime string `json:"disableTime"`
}

type reachJSON struct {
	Name                    string   `json:"name"`
	Organization            string   `json:"organization"`
	OrganizationDisplayName string   `json:"organizationDisplayName"`
	Project                 string   `json:"project"`
	ProjectDisplayName      string   `json:"projectDisplayName"`
	Roles                   []string `json:"roles"`
}

type keyPolicyJSON struct {
	DefaultKeyLifetime string `json:"defaultKeyLifetime"`
	MaxKeyLifetime     string `json:"maxKeyLifetime"`
	UpdateTime         string `json:"updateTime"`
}

func optTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timestamp(t)
}

// seconds writes a duration as protobuf JSON does: "86400s"; "" for none.
func seconds(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// parseDuration reads "86400s" (protobuf JSON), a Go duration ("24h") or
// days ("7d").
func parseDuration(field, s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, ok := strings.CutSuffix(s, "s"); ok {
		if v, err := strconv.ParseInt(n, 10, 64); err == nil && v >= 0 && v <= int64(domain.MaxKeyLifetime/time.Second) {
			return time.Duration(v) * time.Second, nil
		}
	}
	if s == "0" {
		return 0, nil
	}
	if d, err := domain.ParseLifetime(s); err == nil {
		return d, nil
	}
	return 0, domain.FieldError(field, field+" must be a duration such as \"86400s\".")
}

func (a *API) toKeyFull(projectID string, k domain.Key) keyFullJSON {
	out := keyFullJSON{Name: toKey(projectID, k).Name, ID: k.ID, CreateTime: timestamp(k.CreateTime),
		State: string(k.Status(a.now())), Disabled: !k.DisabledTime.IsZero(), DisableTime: optTimestamp(k.DisabledTime),
		Compromised: !k.CompromisedTime.IsZero(), CompromiseTime: optTimestamp(k.CompromisedTime),
		ExpireTime: optTimestamp(k.ExpireTime), GraceEndTime: optTimestamp(k.GraceEnd),
		LastUseTime: optTimestamp(k.LastUsed), LastUseVia: k.LastUsedVia, LastUseFrom: k.LastUsedFrom}
	if k.RotatedTo != "" {
		out.RotatedTo = projectName(projectID) + "/serviceaccounts/" + k.ServiceAccountID + "/keys/" + k.RotatedTo
	}
	return out
}

func toServiceAccountFull(sa domain.ServiceAccount) serviceAccountFullJSON {
	return serviceAccountFullJSON{serviceAccountJSON: toServiceAccount(sa), Disabled: sa.Disabled(), DisableTime: optTimestamp(sa.DisabledTime)}
}

func toReach(m domain.Membership) reachJSON {
	r := toMember(m)
	out := reachJSON{Name: r.Name, Organization: orgName(m.OrganizationID), OrganizationDisplayName: m.OrganizationDisplayName,
		ProjectDisplayName: m.ProjectDisplayName, Roles: r.Roles}
	if m.ProjectID != "" {
		out.Project = projectName(m.ProjectID)
	}
	return out
}

// authorize asks the service whether the caller may do op on the account,
// before the body is read.
func (a *API) authorize(c echo.Context, accountID string, op domain.Operation) error {
	return a.serviceAccounts.Authorize(c.Request().Context(), principal(c), c.Param("project"), accountID, op)
}

// fullView reports whether the caller asked for the lifecycle fields.
func fullView(c echo.Context) bool { return strings.EqualFold(c.QueryParam("view"), "full") }

// KeyAction is POST /v2/projects/{p}/serviceaccounts/{sa}/keys/{k}:{method}.
func (a *API) KeyAction(c echo.Context) error {
	id, method, found := strings.Cut(c.Param("key"), ":")
	if !found {
		return echo.ErrMethodNotAllowed
	}
	ctx, p, projectID, accountID := c.Request().Context(), principal(c), c.Param("project"), c.Param("sa")
	// Refuse who may not change the key before reading the body.
	op, known := map[string]domain.Operation{"rotate": domain.OpKeyRotate,
		"disable": domain.OpKeyDisable, "enable": domain.OpKeyDisable, "reportCompromised": domain.OpKeyReportCompromised}[method]
	if !known {
		return echo.ErrNotFound
	}
	if err := a.authorize(c, accountID, op); err != nil {
		return err
	}
	switch method {
	case "rotate":
		var body struct {
			GracePeriod *string `json:"gracePeriod"`
		}
		if err := decode(c, &body); err != nil {
			return err
		}
		grace := domain.DefaultRotationGrace
		if body.GracePeriod != nil {
			var err error
			if grace, err = parseDuration("gracePeriod", *body.GracePeriod); err != nil {
				return err
			}
		}
		rot, err := a.serviceAccounts.RotateKey(ctx, p, projectID, accountID, id, grace)
		if err != nil {
			return err
		}
		return ok(c, map[string]any{"key": toKey(projectID, rot.New), "secret": rot.Secret, "rotatedKey": a.toKeyFull(projectID, rot.Old)})
	case "disable", "enable":
		if err := decode(c, &struct{}{}); err != nil {
			return err
		}
		k, err := a.serviceAccounts.SetKeyDisabled(ctx, p, projectID, accountID, id, method == "disable")
		if err != nil {
			return err
		}
		return ok(c, a.toKeyFull(projectID, k))
	case "reportCompromised":
		var body struct {
			Reason string `json:"reason"`
		}
		if err := decode(c, &body); err != nil {
			return err
		}
		rep, err := a.serviceAccounts.ReportKeyCompromised(ctx, p, projectID, accountID, id, body.Reason)
		if err != nil {
			return err
		}
		return ok(c, map[string]any{"key": a.toKeyFull(projectID, rep.Key), "tokensRevoked": rep.TokensRevoked,
			"reach": mapItems(rep.Memberships, toReach)})
	}
	return echo.ErrNotFound
}

// ServiceAccountAction is POST /v2/projects/{p}/serviceaccounts/{sa}:{method}.
func (a *API) ServiceAccountAction(c echo.Context) error {
	id, method, found := strings.Cut(c.Param("sa"), ":")
	if !found {
		return echo.ErrMethodNotAllowed
	}
	if method != "disable" && method != "enable" {
		return echo.ErrNotFound
	}
	if err := a.authorize(c, id, domain.OpServiceAccountUpdate); err != nil {
		return err
	}
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	sa, err := a.serviceAccounts.SetAccountDisabled(c.Request().Context(), principal(c), c.Param("project"), id, method == "disable")
	if err != nil {
		return err
	}
	return ok(c, toServiceAccountFull(sa))
}

// GetKeyPolicy is GET /v2/organizations/{o}/keyPolicy.
func (a *API) GetKeyPolicy(c echo.Context) error {
	v, err := a.serviceAccounts.KeyPolicy(c.Request().Context(), principal(c), c.Param("org"))
	if err != nil {
		return err
	}
	return ok(c, toKeyPolicy(v.Policy))
}

func toKeyPolicy(pol domain.KeyPolicy) keyPolicyJSON {
	return keyPolicyJSON{DefaultKeyLifetime: seconds(pol.DefaultLifetime), MaxKeyLifetime: seconds(pol.MaxLifetime), UpdateTime: optTimestamp(pol.UpdateTime)}
}

// UpdateKeyPolicy is PATCH /v2/organizations/{o}/keyPolicy: "" or "0s" removes a lifetime.
func (a *API) UpdateKeyPolicy(c echo.Context) error {
	ctx, p := c.Request().Context(), principal(c)
	v, err := a.serviceAccounts.KeyPolicy(ctx, p, c.Param("org"))
	if err != nil {
		return err
	}
	var body struct {
		DefaultKeyLifetime *string `json:"defaultKeyLifetime"`
		MaxKeyLifetime     *string `json:"maxKeyLifetime"`
		UpdateTime         *string `json:"updateTime"`
	}
	if err := decode(c, &body); err != nil {
		return err
	}
	def, max := v.Policy.DefaultLifetime, v.Policy.MaxLifetime
	read := func(field string, s *string, into *time.Duration) error {
		if s == nil {
			return nil
		}
		if strings.TrimSpace(*s) == "" {
			*into = 0
			return nil
		}
		d, err := parseDuration(field, *s)
		*into = d
		return err
	}
	if err := read("defaultKeyLifetime", body.DefaultKeyLifetime, &def); err != nil {
		return err
	}
	if err := read("maxKeyLifetime", body.MaxKeyLifetime, &max); err != nil {
		return err
	}
	pol, err := a.serviceAccounts.SetKeyPolicy(ctx, p, c.Param("org"), def, max)
	if err != nil {
		return err
	}
	return ok(c, toKeyPolicy(pol))
}

// PurgeExpiredKeys is POST /v2/organizations/{o}/keys:purgeExpired.
func (a *API) PurgeExpiredKeys(c echo.Context) error {
	if _, err := a.serviceAccounts.KeyPolicy(c.Request().Context(), principal(c), c.Param("org")); err != nil {
		return err
	}
	if err := decode(c, &struct{}{}); err != nil {
		return err
	}
	n, err := a.serviceAccounts.PurgeExpiredKeys(c.Request().Context(), principal(c), c.Param("org"))
	if err != nil {
		return err
	}
	return ok(c, map[string]int{"purgedKeys": n})
}
