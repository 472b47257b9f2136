package api

import (
	"strings"
	"time"

	"studio/domain"
)

// Wire shapes of api-v2.md. Every field is always present: no omitempty.

type organizationJSON struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// locationJSON has nullable coordinates: null when none were given.
type locationJSON struct {
	Latitude     *float64 `json:"latitude"`
	Longitude    *float64 `json:"longitude"`
	TimeLocation string   `json:"timeLocation"`
}

type projectJSON struct {
	Name                    string            `json:"name"`
	DisplayName             string            `json:"displayName"`
	Organization            string            `json:"organization"`
	OrganizationDisplayName string            `json:"organizationDisplayName"`
	SensorCount             int               `json:"sensorCount"`
	CloudConnectorCount     int               `json:"cloudConnectorCount"`
	Inventory               bool              `json:"inventory"`
	Location                locationJSON      `json:"location"`
	Labels                  map[string]string `json:"labels"`
}

type serviceAccountJSON struct {
	Name            string `json:"name"`
	Email           string `json:"email"`
	DisplayName     string `json:"displayName"`
	EnableBasicAuth bool   `json:"enableBasicAuth"`
	CreateTime      string `json:"createTime"`
	UpdateTime      string `json:"updateTime"`
}

type keyJSON struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	CreateTime string `json:"createTime"`
}

type memberJSON struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName"`
	Roles       []string `json:"roles"`
	Status      string   `json:"status"`
	Email       string   `json:"email"`
	AccountType string   `json:"accountType"`
	CreateTime  string   `json:"createTime"`
}

type roleJSON struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName"`
	Description string   `json:"description"`
	Permissions []string `json:"permissions"`
}

// timestamp is RFC 3339 UTC with microseconds.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

func orgName(id string) string     { return "organizations/" + id }
func projectName(id string) string { return "projects/" + id }

func toOrganization(o domain.Organization) organizationJSON {
	return organizationJSON{Name: orgName(o.ID), DisplayName: o.DisplayName}
}

func toProject(p domain.Project) projectJSON {
	labels := p.Labels
	if labels == nil {
		labels = map[string]string{} // {} when none, never null
	}
	return projectJSON{Name: projectName(p.ID), DisplayName: p.DisplayName, Organization: orgName(p.OrganizationID),
		OrganizationDisplayName: p.OrganizationDisplayName, Inventory: p.Inventory,
		Location: locationJSON{Latitude: p.Location.Latitude, Longitude: p.Location.Longitude, TimeLocation: p.Location.TimeLocation},
		Labels:   labels}
}

func toServiceAccount(sa domain.ServiceAccount) serviceAccountJSON {
	return serviceAccountJSON{Name: projectName(sa.ProjectID) + "/serviceaccounts/" + sa.ID, Email: sa.Email,
		DisplayName: sa.DisplayName, EnableBasicAuth: sa.EnableBasicAuth,
		CreateTime: timestamp(sa.CreateTime), UpdateTime: timestamp(sa.UpdateTime)}
}

func toKey(projectID string, k domain.Key) keyJSON {
	return keyJSON{Name: projectName(projectID) + "/serviceaccounts/" + k.ServiceAccountID + "/keys/" + k.ID,
		ID: k.ID, CreateTime: timestamp(k.CreateTime)}
}

func toMember(m domain.Membership) memberJSON {
	name := orgName(m.OrganizationID) + "/members/" + m.Account.ID
	if m.ProjectID != "" {
		name = projectName(m.ProjectID) + "/members/" + m.Account.ID
	}
	return memberJSON{Name: name, DisplayName: m.AccountDisplayName, Roles: []string{string(m.Role)}, Status: string(m.Status),
		Email: m.AccountEmail, AccountType: string(m.Account.Type), CreateTime: timestamp(m.CreateTime)}
}

func toRole(info domain.RoleInfo) roleJSON {
	perms := make([]string, len(info.Permissions))
	for i, p := range info.Permissions {
		perms[i] = string(p)
	}
	return roleJSON{Name: string(info.Role), DisplayName: info.DisplayName, Description: info.Description, Permissions: perms}
}

// mapItems converts a page's items.
func mapItems[T, U any](items []T, f func(T) U) []U {
	out := make([]U, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}

// trimName reads the id at the end of a resource name with the given prefix,
// accepting the bare id too.
func trimName(name, prefix string) string {
	return strings.TrimPrefix(name, prefix)
}
