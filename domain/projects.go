package domain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// InventoryProjectName is the display name of the project every
// organization gets at creation.
const InventoryProjectName = "Inventory"

// Projects manages organizations and their projects.
type Projects struct {
	store ProjectsStore
	now   func() time.Time
}

// ProjectsStore is the part of the store Projects uses.
type ProjectsStore interface {
	OrganizationReader
	ProjectReader
	AccessReader
	Updater
}

// NewProjects returns the organizations and projects service.
func NewProjects(store ProjectsStore, now func() time.Time) *Projects {
	return &Projects{store: store, now: now}
}

// OrganizationView is an organization as one principal sees it.
type OrganizationView struct {
	Organization
	IsAdmin bool
}

// ListOrganizations lists the organizations the principal can see.
func (s *Projects) ListOrganizations(ctx context.Context, p Principal, req PageRequest) (Page[Organization], error) {
	listing := Listing("organizations")
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return Page[Organization]{}, err
	}
	items, err := s.store.ListOrganizations(ctx, p.Account, after, size+1)
	if err != nil {
		return Page[Organization]{}, err
	}
	return pageOf(items, size, listing, func(o Organization) Cursor { return Cursor{Key: strings.ToLower(o.DisplayName), ID: o.ID} }), nil
}

// Organization returns an organization the principal can see: as its
// admin, or through a project in it. Anyone else gets not-found.
func (s *Projects) Organization(ctx context.Context, p Principal, orgID string) (OrganizationView, error) {
	return orgView(ctx, s.store, p, orgID)
}

func orgView(ctx context.Context, r orgReader, p Principal, orgID string) (OrganizationView, error) {
	if !ValidID(orgID) {
		return OrganizationView{}, ErrNotFound("Organization")
	}
	org, err := r.OrganizationByID(ctx, orgID)
	if err != nil {
		return OrganizationView{}, err
	}
	admin, err := r.IsOrgAdmin(ctx, p.Account, orgID)
	if err != nil {
		return OrganizationView{}, err
	}
	if !admin {
		some, err := r.ListProjects(ctx, ProjectFilter{OrganizationID: orgID, Account: p.Account}, Cursor{}, 1)
		if err != nil {
			return OrganizationView{}, err
		}
		if len(some) == 0 {
			return OrganizationView{}, ErrNotFound("Organization")
		}
	}
	return OrganizationView{Organization: org, IsAdmin: admin}, nil
}

// orgReader is what deciding about an organization reads.
type orgReader interface {
	OrganizationReader
	ProjectReader
	AccessReader
}

// requireOrgAdmin returns the organization when p administers it: not-found
// when p cannot see it at all, forbidden when p sees it without being admin.
func requireOrgAdmin(ctx context.Context, r orgReader, p Principal, orgID string) (Organization, error) {
	v, err := orgView(ctx, r, p, orgID)
	if err != nil {
		return Organization{}, err
	}
	if !v.IsAdmin {
		return Organization{}, Errorf(EFORBIDDEN, "Only organization admins can do this.")
	}
	return v.Organization, nil
}

// ListProjects lists the projects of one organization (or of all when
// orgID is "") that the principal can read, optionally filtered by name
// and by labels (a project must have all of them).
func (s *Projects) ListProjects(ctx context.Context, p Principal, orgID, query string, req PageRequest, labels ...LabelFilter) (Page[Project], error) {
	query = strings.TrimSpace(query)
	if len(query) > MaxDisplayNameLength*4 {
		return Page[Project]{}, FieldError("query", "The search text is too long.")
	}
	if len(labels) > MaxLabels {
		return Page[Project]{}, FieldError("labels", fmt.Sprintf("At most %d label filters.", MaxLabels))
	}
	filters := make([]string, len(labels))
	for i, l := range labels {
		if err := CheckLabelKey("labels", l.Key); err != nil {
			return Page[Project]{}, err
		}
		filters[i] = l.String()
	}
	slices.Sort(filters)
	listing := Listing("projects", orgID, query, strings.Join(filters, "\x00"))
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return Page[Project]{}, err
	}
	f := ProjectFilter{OrganizationID: orgID, Account: p.Account, Query: query, Labels: labels}
	if orgID != "" {
		v, err := orgView(ctx, s.store, p, orgID)
		if err != nil {
			return Page[Project]{}, err
		}
		if v.IsAdmin {
			f.Account = AccountRef{} // an organization admin reads every project in it
		}
	}
	items, err := s.store.ListProjects(ctx, f, after, size+1)
	if err != nil {
		return Page[Project]{}, err
	}
	return pageOf(items, size, listing, ProjectCursor), nil
}

// ProjectCursor is the keyset position of a project in name order.
func ProjectCursor(p Project) Cursor { return Cursor{Key: strings.ToLower(p.DisplayName), ID: p.ID} }

// Access returns what the principal holds in a project, refusing with
// not-found when it cannot even read it.
func (s *Projects) Access(ctx context.Context, p Principal, projectID string) (Access, error) {
	return s.Authorize(ctx, p, projectID, OpProjectRead)
}

// Authorize returns what the principal holds in a project when it allows
// op there (see authorizeProject), so a handler can refuse before it
// reads a form, and knows what the page may offer.
func (s *Projects) Authorize(ctx context.Context, p Principal, projectID string, op Operation) (Access, error) {
	return authorizeProject(ctx, s.store, p, projectID, op)
}

// ProjectInput is what a person types for a project. A nil field stays
// as it is (on create: none).
type ProjectInput struct {
	DisplayName *string
	Location    *Location
	// Labels replaces every label; nil leaves them, empty removes them all.
	Labels map[string]string
}

func cleanLocation(l Location) (Location, error) {
	switch {
	case (l.Latitude == nil) != (l.Longitude == nil):
		field := "longitude"
		if l.Latitude == nil {
			field = "latitude"
		}
		return l, FieldError(field, "Latitude and longitude go together: give both, or neither.")
	case l.Latitude != nil && (math.IsNaN(*l.Latitude) || *l.Latitude < -90 || *l.Latitude > 90):
		return l, FieldError("latitude", "Latitude must be between -90 and 90.")
	case l.Longitude != nil && (math.IsNaN(*l.Longitude) || *l.Longitude < -180 || *l.Longitude > 180):
		return l, FieldError("longitude", "Longitude must be between -180 and 180.")
	}
	l.TimeLocation = strings.TrimSpace(l.TimeLocation)
	if l.TimeLocation != "" {
		// "Local" would mean this server's zone, not a place.
		if _, err := time.LoadLocation(l.TimeLocation); err != nil || len(l.TimeLocation) > 64 || l.TimeLocation == "Local" {
			return l, FieldError("timeLocation", "Time zone must be an IANA name such as Europe/Oslo.")
		}
	}
	return l, nil
}

// CreateProject makes a project in an organization; only its admins may.
func (s *Projects) CreateProject(ctx context.Context, p Principal, orgID string, in ProjectInput) (Project, error) {
	org, err := requireOrgAdmin(ctx, s.store, p, orgID)
	if err != nil {
		return Project{}, err
	}
	var name string
	if in.DisplayName != nil {
		name = *in.DisplayName
	}
	if name, err = CleanDisplayName("displayName", name); err != nil {
		return Project{}, err
	}
	var loc Location
	if in.Location != nil {
		if loc, err = cleanLocation(*in.Location); err != nil {
			return Project{}, err
		}
	}
	labels, err := CheckLabels("labels", in.Labels)
	if err != nil {
		return Project{}, err
	}
	now := s.now()
	proj := Project{ID: NewID(now), OrganizationID: org.ID, OrganizationDisplayName: org.DisplayName,
		DisplayName: name, Location: loc, Labels: labels, CreateTime: now, UpdateTime: now}
	err = s.store.Update(ctx, func(tx Tx) error {
		if err := tx.CreateProject(ctx, proj); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionProjectCreate, "project", proj.ID, proj.DisplayName)
		e.OrganizationID, e.ProjectID, e.Detail = org.ID, proj.ID, LabelsChange(nil, labels)
		return tx.AddAudit(ctx, e)
	})
	return proj, err
}

// UpdateProject changes the fields given in in; nil fields stay. The
// project is read and checked inside the write transaction, so two changes
// at once both land.
func (s *Projects) UpdateProject(ctx context.Context, p Principal, projectID string, in ProjectInput) (Project, error) {
	// Refuse an outsider before looking at the input, as a read would.
	if _, err := authorizeProject(ctx, s.store, p, projectID, OpProjectUpdate); err != nil {
		return Project{}, err
	}
	var name string
	var loc Location
	var labels map[string]string
	var err error
	if in.Labels != nil {
		if labels, err = CheckLabels("labels", in.Labels); err != nil {
			return Project{}, err
		}
	}
	if in.DisplayName != nil {
		if name, err = CleanDisplayName("displayName", *in.DisplayName); err != nil {
			return Project{}, err
		}
	}
	if in.Location != nil {
		if loc, err = cleanLocation(*in.Location); err != nil {
			return Project{}, err
		}
	}
	now := s.now()
	var proj Project
	err = s.store.Update(ctx, func(tx Tx) error {
		a, err := authorizeProject(ctx, tx, p, projectID, OpProjectUpdate)
		if err != nil {
			return err
		}
		proj = a.Project
		var changes []string
		if in.DisplayName != nil && name != proj.DisplayName {
			changes = append(changes, "name: "+proj.DisplayName+" → "+name)
			proj.DisplayName = name
		}
		if in.Location != nil && !loc.Equal(proj.Location) {
			changes = append(changes, "location")
			proj.Location = loc
		}
		labelsChanged := ""
		if labels != nil {
			labelsChanged = LabelsChange(proj.Labels, labels)
		}
		if labelsChanged != "" {
			changes = append(changes, labelsChanged)
			proj.Labels = labels
		}
		if len(changes) == 0 {
			return nil
		}
		proj.UpdateTime = now
		if err := tx.UpdateProject(ctx, proj); err != nil {
			return err
		}
		if labelsChanged != "" {
			if err := tx.SetProjectLabels(ctx, proj.ID, labels); err != nil {
				return err
			}
		}
		e := auditEntry(p, now, ActionProjectUpdate, "project", proj.ID, proj.DisplayName)
		e.OrganizationID, e.ProjectID, e.Detail = proj.OrganizationID, proj.ID, strings.Join(changes, "; ")
		return tx.AddAudit(ctx, e)
	})
	return proj, err
}

// DeleteProject deletes an empty project other than the inventory project.
func (s *Projects) DeleteProject(ctx context.Context, p Principal, projectID string) error {
	a, err := authorizeProject(ctx, s.store, p, projectID, OpProjectDelete)
	if err != nil {
		return err
	}
	if a.Project.Inventory {
		return Errorf(EINVALID, "The inventory project cannot be deleted.")
	}
	now := s.now()
	return s.store.Update(ctx, func(tx Tx) error {
		// Checked inside the transaction so nothing is added between check and delete.
		empty, err := tx.ProjectIsEmpty(ctx, projectID)
		if err != nil {
			return err
		}
		if !empty {
			return Errorf(EINVALID, "The project is not empty: delete its service accounts first.")
		}
		if err := tx.DeleteProject(ctx, projectID); err != nil {
			return err
		}
		e := auditEntry(p, now, ActionProjectDelete, "project", a.Project.ID, a.Project.DisplayName)
		e.OrganizationID = a.Project.OrganizationID
		return tx.AddAudit(ctx, e)
	})
}

// createOrganization makes an organization, its inventory project, and an
// organization admin membership for owner, with their audit entries.
func createOrganization(ctx context.Context, tx Tx, actor Principal, now time.Time, name string, owner AccountRef) (Organization, error) {
	org := Organization{ID: NewID(now), DisplayName: name, CreateTime: now}
	inv := Project{ID: NewID(now), OrganizationID: org.ID, OrganizationDisplayName: name,
		DisplayName: InventoryProjectName, Inventory: true, CreateTime: now, UpdateTime: now}
	m := Membership{OrganizationID: org.ID, Account: owner, Role: RoleOrgAdmin, Status: StatusAccepted, CreateTime: now}
	if err := tx.CreateOrganization(ctx, org); err != nil {
		return org, err
	}
	if err := tx.CreateProject(ctx, inv); err != nil {
		return org, err
	}
	if err := tx.CreateMembership(ctx, &m); err != nil {
		return org, err
	}
	entries := []AuditEntry{
		auditEntry(actor, now, ActionOrganizationCreate, "organization", org.ID, org.DisplayName),
		auditEntry(actor, now, ActionProjectCreate, "project", inv.ID, inv.DisplayName),
		auditEntry(actor, now, ActionMembershipCreate, "membership", fmt.Sprint(m.ID), owner.ID),
	}
	entries[1].ProjectID = inv.ID
	entries[2].Detail = string(RoleOrgAdmin)
	for _, e := range entries {
		e.OrganizationID = org.ID
		if err := tx.AddAudit(ctx, e); err != nil {
			return org, err
		}
	}
	return org, nil
}
