package domain

import "context"

// Support actions in the audit log (issue 16). An organization's admins
// must tell support's interventions from their own people's work: an entry
// is marked as a support staff action (AuditEntry.ActorStaff) only when
// the support role allowed the change and no role the person holds where
// it happened would have. The first administrator, organization admin and
// support staff at once, then shows as support only in the support console
// of other organizations, never for ordinary changes in its own.

// addSupportEntry writes the entry of a change made through the support
// console or the global hygiene view. perm is what a project role needs for
// the same change in e's project; "" when no organization role allows it
// (locking a person, looking through the support console).
func addSupportEntry(ctx context.Context, tx Tx, p Principal, e AuditEntry, perm Permission) error {
	allowed, err := roleAllows(ctx, tx, p, e.OrganizationID, e.ProjectID, perm)
	if err != nil {
		return err
	}
	e.ActorStaff = !allowed
	return tx.AddAudit(ctx, e)
}

// roleAllows reports whether a role p holds in the organization allows
// perm: in the project (its project role, or organization admin), or, for
// a change to the organization itself (projectID ""), as its admin.
func roleAllows(ctx context.Context, r Reader, p Principal, orgID, projectID string, perm Permission) (bool, error) {
	if perm == "" || orgID == "" || p.Account.ID == "" {
		return false, nil
	}
	if projectID == "" {
		return r.IsOrgAdmin(ctx, p.Account, orgID)
	}
	a, err := r.AccessIn(ctx, p.Account, projectID)
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return a.Project.OrganizationID == orgID && a.Can(perm), nil
}
