package domain

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Credential hygiene (issue 8, item 7): lists of credentials to clean up,
// for an organization's admins and, across every organization, for support
// staff, with bulk actions that check each object and audit each change.

// HygieneList names one list of the hygiene view, as the URL spells it.
type HygieneList string

const (
	ListUnusedKeys     HygieneList = "unused-keys"
	ListOldKeys        HygieneList = "old-keys"
	ListBasicAuth      HygieneList = "basic-auth"
	ListAdminAccounts  HygieneList = "admin-accounts"
	ListKeylessAccount HygieneList = "no-keys"
	ListUnboundAccount HygieneList = "no-memberships"
)

// HygieneListInfo describes a list for people.
type HygieneListInfo struct {
	List  HygieneList
	Title string
	// Keys is true for lists of keys, false for lists of service accounts.
	Keys bool
}

// HygieneLists are the lists, in the order the view offers them.
var HygieneLists = []HygieneListInfo{
	{ListUnusedKeys, "Unused keys", true},
	{ListOldKeys, "Old keys", true},
	{ListBasicAuth, "Basic Auth on", false},
	{ListAdminAccounts, "Admin roles", false},
	{ListKeylessAccount, "No key", false},
	{ListUnboundAccount, "No membership", false},
}

// LookupHygieneList returns a list's description.
func LookupHygieneList(l HygieneList) (HygieneListInfo, bool) {
	for _, info := range HygieneLists {
		if info.List == l {
			return info, true
		}
	}
	return HygieneListInfo{}, false
}

// Defaults and bounds of the hygiene filters, in days.
const (
	DefaultUnusedDays    = 90
	DefaultOlderThanDays = 365
	MaxHygieneDays       = 3650
	// MaxHygieneBatch bounds how many objects one bulk action changes.
	MaxHygieneBatch = 200
	// MaxHygieneProjects bounds the projects offered in the project filter.
	MaxHygieneProjects = 500
)

// HygieneFilter is what the URL selects: a list, its thresholds and
// optionally one project.
type HygieneFilter struct {
	List          HygieneList
	ProjectID     string
	UnusedDays    int
	OlderThanDays int
	// OlderThanSet is false when OlderThanDays is the default (the
	// organization's maximum key lifetime, or DefaultOlderThanDays).
	OlderThanSet bool
}

// ParseHygieneFilter reads the filters as written in the URL; empty values
// take their defaults. Bad values are field errors named after the URL's
// parameters.
func ParseHygieneFilter(list, project, unusedDays, olderThan string) (HygieneFilter, error) {
	f := HygieneFilter{List: HygieneList(strings.TrimSpace(list)), ProjectID: strings.TrimSpace(project),
		UnusedDays: DefaultUnusedDays, OlderThanDays: DefaultOlderThanDays}
	errs := map[string]string{}
	if f.List == "" {
		f.List = ListUnusedKeys
	}
	if _, ok := LookupHygieneList(f.List); !ok {
		errs["list"] = "There is no such list. Choose one of the tabs."
		f.List = ListUnusedKeys
	}
	if f.ProjectID != "" && !ValidID(f.ProjectID) {
		errs["project"] = "This is not a project id: a project id has 20 characters, digits and the letters a to v."
	}
	days := func(field, s string, into *int) bool {
		s = strings.TrimSpace(s)
		if s == "" {
			return false
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxHygieneDays {
			errs[field] = fmt.Sprintf("Write a whole number of days from 1 to %d.", MaxHygieneDays)
			return false
		}
		*into = n
		return true
	}
	days("unused_days", unusedDays, &f.UnusedDays)
	f.OlderThanSet = days("older_than", olderThan, &f.OlderThanDays)
	if len(errs) > 0 {
		return f, &Error{Code: EINVALID, Message: "Fix the filters to see the list.", Fields: errs}
	}
	return f, nil
}

// HygieneQuery is what the store lists.
type HygieneQuery struct {
	List           HygieneList
	OrganizationID string // "" for every organization
	ProjectID      string // "" for every project
	// Before is the cutoff of the key lists: keys unused since before it
	// (ListUnusedKeys) or made before it (ListOldKeys).
	Before time.Time
}

// HygieneKey is a key as the hygiene lists show it, with its account and where it lives.
type HygieneKey struct {
	Key                     Key
	Account                 ServiceAccount
	ProjectDisplayName      string
	OrganizationID          string
	OrganizationDisplayName string
}

// HygieneAccount is a service account as the hygiene lists show it.
type HygieneAccount struct {
	Account                 ServiceAccount // with KeyCount
	ProjectDisplayName      string
	OrganizationID          string
	OrganizationDisplayName string
	// ProjectAdmin and OrgAdmin count the admin memberships the account
	// holds anywhere; Memberships counts all of them.
	ProjectAdmin int
	OrgAdmin     int
	Memberships  int
}

// HygieneStore is the part of the store Hygiene uses: its lists (each one
// query backed by an index and paged by keyset) and batch lookups (one
// query for many objects), beside the organization, project and key reads.
type HygieneStore interface {
	orgReader
	KeyReader
	Updater
	// HygieneKeys lists keys of a key list: ListUnusedKeys in order of last
	// activity (last use, or creation when never used), then id, with
	// after.Key the activity in Unix microseconds; ListOldKeys in order of
	// creation time, then id, with after.Key the creation time.
	HygieneKeys(ctx context.Context, q HygieneQuery, after Cursor, limit int) ([]HygieneKey, error)
	// HygieneAccounts lists service accounts of an account list in id order.
	HygieneAccounts(ctx context.Context, q HygieneQuery, afterID string, limit int) ([]HygieneAccount, error)
	// HygieneKeysByID and HygieneAccountsByID look objects up by id in one
	// query each; ids not found are left out. Results are in id order.
	HygieneKeysByID(ctx context.Context, ids []string) ([]HygieneKey, error)
	HygieneAccountsByID(ctx context.Context, ids []string) ([]HygieneAccount, error)
	// OrgAdminsAmong reports which of the accounts hold an accepted
	// organization admin membership of the organization.
	OrgAdminsAmong(ctx context.Context, orgID string, accounts []AccountRef) (map[AccountRef]bool, error)
	// ProjectCounts counts what a project holds, each count up to limit,
	// with its unused keys those whose last activity is before unusedBefore.
	ProjectCounts(ctx context.Context, projectID string, unusedBefore time.Time, limit int) (ProjectCounts, error)
}

// Hygiene is the credential hygiene service.
type Hygiene struct {
	store HygieneStore
	now   func() time.Time
}

// NewHygiene returns the hygiene service.
func NewHygiene(store HygieneStore, now func() time.Time) *Hygiene {
	return &Hygiene{store: store, now: now}
}

// HygieneScope is where a hygiene view looks: one organization (for its
// admins) or, with OrganizationID empty, every organization (for support staff).
type HygieneScope struct {
	OrganizationID string
}

// Global reports whether the scope is every organization.
func (s HygieneScope) Global() bool { return s.OrganizationID == "" }

// authorize checks who may use the scope: organization admins of its
// organization, or support staff for the global one.
func (h *Hygiene) authorize(ctx context.Context, r orgReader, p Principal, s HygieneScope) (Organization, error) {
	if s.Global() {
		return Organization{}, requireStaff(p)
	}
	return requireOrgAdmin(ctx, r, p, s.OrganizationID)
}

// Authorize refuses who may not use the scope (as every method here does
// first), so a handler can refuse before it reads a form.
func (h *Hygiene) Authorize(ctx context.Context, p Principal, s HygieneScope) error {
	_, err := h.authorize(ctx, h.store, p, s)
	return err
}

// HygieneReport is one page of one hygiene list.
type HygieneReport struct {
	// Organization is the scope's organization; zero for every organization.
	Organization Organization
	Filter       HygieneFilter
	// Now is when the report was made; Before is the cutoff of key lists.
	Now      time.Time
	Before   time.Time
	Keys     Page[HygieneKey]
	Accounts Page[HygieneAccount]
	// Projects are the organization's projects, for the project filter
	// (empty for every organization); MoreProjects tells that there are more.
	Projects     []Project
	MoreProjects bool
	// MaxKeyLifetime is the organization's maximum key lifetime, the
	// default of the old-keys list (zero when the organization sets none).
	MaxKeyLifetime time.Duration
}

// Report lists one page of one list.
func (h *Hygiene) Report(ctx context.Context, p Principal, s HygieneScope, f HygieneFilter, req PageRequest) (HygieneReport, error) {
	org, err := h.authorize(ctx, h.store, p, s)
	if err != nil {
		return HygieneReport{}, err
	}
	rep := HygieneReport{Organization: org, Filter: f}
	info, ok := LookupHygieneList(f.List)
	if !ok {
		return rep, FieldError("list", "There is no such list. Choose one of the tabs.")
	}
	if !s.Global() {
		ps, err := h.store.ListProjects(ctx, ProjectFilter{OrganizationID: org.ID}, Cursor{}, MaxHygieneProjects+1)
		if err != nil {
			return rep, err
		}
		rep.Projects, rep.MoreProjects = ps, len(ps) > MaxHygieneProjects
		if rep.MoreProjects {
			rep.Projects = ps[:MaxHygieneProjects]
		}
		if rep.MaxKeyLifetime, err = h.maxKeyLifetime(ctx, org.ID); err != nil {
			return rep, err
		}
		if !f.OlderThanSet && rep.MaxKeyLifetime > 0 {
			rep.Filter.OlderThanDays = int((rep.MaxKeyLifetime + 24*time.Hour - 1) / (24 * time.Hour))
		}
		if f.ProjectID != "" {
			proj, err := h.store.ProjectByID(ctx, f.ProjectID)
			if err != nil && ErrorCode(err) != ENOTFOUND {
				return rep, err
			}
			// The same answer for a project elsewhere and for no project at all.
			if err != nil || proj.OrganizationID != org.ID {
				return rep, FieldError("project", "This organization has no such project.")
			}
		}
	}
	listing := Listing("hygiene", string(f.List), s.OrganizationID, f.ProjectID,
		strconv.Itoa(rep.Filter.UnusedDays), strconv.Itoa(rep.Filter.OlderThanDays))
	size, after, err := normalizePage(req, listing)
	if err != nil {
		return rep, err
	}
	q := HygieneQuery{List: f.List, OrganizationID: s.OrganizationID, ProjectID: f.ProjectID}
	now := h.now()
	switch f.List {
	case ListUnusedKeys:
		q.Before = now.AddDate(0, 0, -rep.Filter.UnusedDays)
	case ListOldKeys:
		q.Before = now.AddDate(0, 0, -rep.Filter.OlderThanDays)
	}
	rep.Now, rep.Before = now, q.Before
	if info.Keys {
		if after.Key != "" {
			if _, err := strconv.ParseInt(after.Key, 10, 64); err != nil {
				return rep, FieldError("pageToken", "The page token is not valid.")
			}
		}
		items, err := h.store.HygieneKeys(ctx, q, after, size+1)
		if err != nil {
			return rep, err
		}
		rep.Keys = pageOf(items, size, listing, func(k HygieneKey) Cursor {
			t := k.Key.CreateTime
			if f.List == ListUnusedKeys && k.Key.LastUsed.After(t) {
				t = k.Key.LastUsed
			}
			return Cursor{Key: strconv.FormatInt(t.UnixMicro(), 10), ID: k.Key.ID}
		})
		return rep, nil
	}
	items, err := h.store.HygieneAccounts(ctx, q, after.ID, size+1)
	if err != nil {
		return rep, err
	}
	rep.Accounts = pageOf(items, size, listing, func(a HygieneAccount) Cursor { return Cursor{ID: a.Account.ID} })
	return rep, nil
}

// maxKeyLifetime is the organization's maximum key lifetime, zero when none.
func (h *Hygiene) maxKeyLifetime(ctx context.Context, orgID string) (time.Duration, error) {
	pol, err := h.store.KeyPolicy(ctx, orgID)
	return pol.MaxLifetime, err
}

// HygieneAction is a bulk action of the hygiene view.
type HygieneAction string

const (
	HygieneDisableKeys     HygieneAction = "disable-keys"
	HygieneDeleteKeys      HygieneAction = "delete-keys"
	HygieneBasicAuthOff    HygieneAction = "basic-auth-off"
	HygieneDisableAccounts HygieneAction = "disable-accounts"
	HygieneDeleteAccounts  HygieneAction = "delete-accounts"
)

// HygieneActionInfo describes an action for people.
type HygieneActionInfo struct {
	Action HygieneAction
	// Label is the button's text; Verb says what happens to each object.
	Label string
	Verb  string
	// Keys is true for actions on keys, false for actions on accounts.
	Keys bool
}

// HygieneActions are the bulk actions.
var HygieneActions = []HygieneActionInfo{
	{HygieneDisableKeys, "Disable selected keys", "disabled", true},
	{HygieneDeleteKeys, "Delete selected keys", "deleted", true},
	{HygieneBasicAuthOff, "Switch Basic Auth off", "Basic Auth switched off", false},
	{HygieneDisableAccounts, "Disable selected service accounts", "disabled", false},
	{HygieneDeleteAccounts, "Delete selected service accounts", "deleted, with their keys and memberships", false},
}

// LookupHygieneAction returns an action's description.
func LookupHygieneAction(a HygieneAction) (HygieneActionInfo, bool) {
	for _, info := range HygieneActions {
		if info.Action == a {
			return info, true
		}
	}
	return HygieneActionInfo{}, false
}

// HygieneSelection is what a bulk action would change: exactly the
// selected objects, as the confirmation lists them.
type HygieneSelection struct {
	Action   HygieneActionInfo
	Keys     []HygieneKey
	Accounts []HygieneAccount
}

// Len is how many objects are selected.
func (s HygieneSelection) Len() int { return len(s.Keys) + len(s.Accounts) }

// cleanSelection checks an action and the ids selected for it.
func cleanSelection(action HygieneAction, ids []string) (HygieneActionInfo, []string, error) {
	info, ok := LookupHygieneAction(action)
	if !ok {
		return info, nil, FieldError("action", "Choose what to do with the selected objects.")
	}
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" || seen[id] {
			continue
		}
		if !ValidID(id) {
			return info, nil, FieldError("id", "The selection holds something that is not an id. Reload the page and select again.")
		}
		seen[id] = true
		out = append(out, id)
	}
	switch {
	case len(out) == 0:
		return info, nil, FieldError("id", "Select at least one row first.")
	case len(out) > MaxHygieneBatch:
		return info, nil, FieldError("id", fmt.Sprintf("Select at most %d rows at once.", MaxHygieneBatch))
	}
	return info, out, nil
}

// errGone refuses a selection of which something is gone or out of scope:
// the same message for both, so nothing outside the scope is revealed.
var errGone = Errorf(ENOTFOUND, "Some of the selected objects do not exist (any more) or are not in this organization. Nothing was changed; reload the list and select again.")

// Select looks the selected objects up for the confirmation, after the
// same checks as the action itself.
func (h *Hygiene) Select(ctx context.Context, p Principal, s HygieneScope, action HygieneAction, ids []string) (HygieneSelection, error) {
	if _, err := h.authorize(ctx, h.store, p, s); err != nil {
		return HygieneSelection{}, err
	}
	info, ids, err := cleanSelection(action, ids)
	if err != nil {
		return HygieneSelection{}, err
	}
	sel := HygieneSelection{Action: info}
	if info.Keys {
		if sel.Keys, err = h.store.HygieneKeysByID(ctx, ids); err != nil {
			return sel, err
		}
		for _, k := range sel.Keys {
			if !s.Global() && k.OrganizationID != s.OrganizationID {
				return HygieneSelection{}, errGone
			}
		}
	} else {
		if sel.Accounts, err = h.store.HygieneAccountsByID(ctx, ids); err != nil {
			return sel, err
		}
		for _, a := range sel.Accounts {
			if !s.Global() && a.OrganizationID != s.OrganizationID {
				return HygieneSelection{}, errGone
			}
		}
	}
	if sel.Len() != len(ids) {
		return HygieneSelection{}, errGone
	}
	return sel, nil
}

// Apply runs a bulk action on the selected objects, in one transaction:
// every object is read again and checked (in the scope's organization,
// whose admin the principal still is; any organization for support staff,
// who must give a reason), and each change writes one audit entry. When any
// object is refused, nothing changes. It returns how many objects changed.
func (h *Hygiene) Apply(ctx context.Context, p Principal, s HygieneScope, action HygieneAction, ids []string, reason string) (int, error) {
	if _, err := h.authorize(ctx, h.store, p, s); err != nil {
		return 0, err
	}
	info, ids, err := cleanSelection(action, ids)
	if err != nil {
		return 0, err
	}
	if s.Global() {
		if reason, err = cleanReason(reason); err != nil {
			return 0, err
		}
	} else {
		reason = ""
	}
	now := h.now()
	changed := 0
	err = h.store.Update(ctx, func(tx Tx) error {
		// Checked again inside the transaction: an admin revoked meanwhile is refused.
		if _, err := h.authorize(ctx, tx, p, s); err != nil {
			return err
		}
		for _, id := range ids {
			var sa ServiceAccount
			var key Key
			var err error
			if info.Keys {
				if key, err = tx.KeyByID(ctx, id); err != nil {
					return goneIfNotFound(err)
				}
				id = key.ServiceAccountID
			}
			if sa, err = tx.ServiceAccountByID(ctx, id); err != nil {
				return goneIfNotFound(err)
			}
			proj, err := tx.ProjectByID(ctx, sa.ProjectID)
			if err != nil {
				return goneIfNotFound(err)
			}
			if !s.Global() && proj.OrganizationID != s.OrganizationID {
				return errGone
			}
			// The same changes as the owner's and support's (credentials.go);
			// an object already in the state asked for stays as it is.
			audit := credentialAudit{Entry: h.entry(p, now, sa, proj, reason), Note: " (credential hygiene, bulk)"}
			if s.Global() {
				// The global view is support's: marked as a support action
				// unless the person's own role there allows the change.
				audit.Support = &p
			}
			done := true
			switch info.Action {
			case HygieneDisableKeys:
				done, err = changeKeyState(ctx, tx, &key, sa, true, now, audit)
			case HygieneDisableAccounts:
				done, err = changeAccountState(ctx, tx, &sa, true, now, audit)
			case HygieneDeleteKeys:
				err = deleteKey(ctx, tx, key, sa, audit)
			case HygieneBasicAuthOff:
				done, err = switchBasicAuthOff(ctx, tx, &sa, now, audit)
			case HygieneDeleteAccounts:
				err = deleteAccount(ctx, tx, sa, audit)
			}
			if err != nil {
				return err
			}
			if done {
				changed++
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return changed, nil
}

func goneIfNotFound(err error) error {
	if ErrorCode(err) == ENOTFOUND {
		return errGone
	}
	return err
}

// entry starts the audit entry of one change to an account or its key.
func (h *Hygiene) entry(p Principal, now time.Time, sa ServiceAccount, proj Project, reason string) AuditEntry {
	e := auditEntry(p, now, "", "serviceaccount", sa.ID, sa.Email)
	e.OrganizationID, e.ProjectID = proj.OrganizationID, proj.ID
	e.Reason = reason
	return e
}

// EffectiveRoles returns, for members listed on a project's page, the
// effective role of each account whose organization admin membership
// grants more than its project role. Only the organization's admins learn
// this, as only they may read its memberships (api-v2.md); anyone else
// gets an empty map.
func (h *Hygiene) EffectiveRoles(ctx context.Context, p Principal, projectID string, ms []Membership) (map[AccountRef]Role, error) {
	a, err := authorizeProject(ctx, h.store, p, projectID, OpMemberRead)
	if err != nil {
		return nil, err
	}
	out := map[AccountRef]Role{}
	if !a.OrgAdmin || len(ms) == 0 {
		return out, nil
	}
	refs := make([]AccountRef, 0, len(ms))
	for _, m := range ms {
		refs = append(refs, m.Account)
	}
	admins, err := h.store.OrgAdminsAmong(ctx, a.Project.OrganizationID, refs)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if eff := EffectiveRole(m.Role, admins[m.Account]); eff != m.Role {
			out[m.Account] = eff
		}
	}
	return out, nil
}
