package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"studio/domain"
)

func (q queries) ServiceAccountByEmail(ctx context.Context, email string) (domain.ServiceAccount, error) {
	sa, err := scanServiceAccount(q.q.QueryRowContext(ctx, "SELECT "+serviceAccountColumns+" FROM service_accounts sa WHERE sa.email = ?", email))
	return sa, notFound(err, "Service account")
}

func (q queries) OrgMembership(ctx context.Context, orgID string, account domain.AccountRef) (domain.Membership, error) {
	col, val, err := accountColumn(account)
	if err != nil {
		return domain.Membership{}, err
	}
	ms, err := q.members(ctx, "organization_members m", "m.organization_id = ? AND m."+col+" = ?", []any{orgID, val}, 0, 1)
	if err != nil {
		return domain.Membership{}, err
	}
	if len(ms) == 0 {
		return domain.Membership{}, domain.ErrNotFound("Membership")
	}
	return ms[0], nil
}

func (q queries) ListProjectMembers(ctx context.Context, projectID, query string, afterID int64, limit int) ([]domain.Membership, error) {
	where, args := "m.project_id = ?", []any{projectID}
	if query != "" {
		where += " AND (instr(lower(coalesce(u.display_name, sa.display_name)), ?) > 0 OR instr(coalesce(u.email, sa.email), ?) > 0)"
		args = append(args, strings.ToLower(query), strings.ToLower(query))
	}
	return q.members(ctx, "project_members m", where, args, afterID, limit)
}

func (q queries) ListOrgMembers(ctx context.Context, orgID string, afterID int64, limit int) ([]domain.Membership, error) {
	return q.members(ctx, "organization_members m", "m.organization_id = ?", []any{orgID}, afterID, limit)
}

// members reads memberships of one table with their accounts' emails and names.
func (q queries) members(ctx context.Context, table, where string, args []any, afterID int64, limit int) ([]domain.Membership, error) {
	scope := "m.project_id, p.organization_id"
	join := " JOIN projects p ON p.id = m.project_id"
	if strings.HasPrefix(table, "organization_members") {
		scope, join = "'', m.organization_id", ""
	}
	rows, err := q.q.QueryContext(ctx, `SELECT m.id, `+scope+`, m.user_id, m.service_account_id, m.role, m.status, m.create_time,
		coalesce(u.email, sa.email, ''), coalesce(u.display_name, sa.display_name, '')
		FROM `+table+join+`
		LEFT JOIN users u ON u.id = m.user_id
		LEFT JOIN service_accounts sa ON sa.id = m.service_account_id
		WHERE `+where+` AND m.id > ? ORDER BY m.id LIMIT ?`, append(args, afterID, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Membership
	for rows.Next() {
		var m domain.Membership
		var userID sql.NullInt64
		var saID sql.NullString
		var role, status string
		var created int64
		if err := rows.Scan(&m.ID, &m.ProjectID, &m.OrganizationID, &userID, &saID, &role, &status, &created,
			&m.AccountEmail, &m.AccountDisplayName); err != nil {
			return nil, err
		}
		m.Account, m.Role, m.Status, m.CreateTime = accountOf(userID, saID), domain.Role(role), domain.MembershipStatus(status), fromMicros(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

func (q queries) CountOrgUserAdmins(ctx context.Context, orgID string) (int, error) {
	var n int
	err := q.q.QueryRowContext(ctx, `SELECT count(*) FROM organization_members
		WHERE organization_id = ? AND user_id IS NOT NULL AND status = 'ACCEPTED'`, orgID).Scan(&n)
	return n, err
}

func (q queries) AccountProjectMemberships(ctx context.Context, orgID string, account domain.AccountRef) ([]domain.Membership, error) {
	col, val, err := accountColumn(account)
	if err != nil {
		return nil, err
	}
	return q.members(ctx, "project_members m", "p.organization_id = ? AND m."+col+" = ?", []any{orgID, val}, 0, -1)
}

const invitationColumns = `id, user_id, organization_id, project_id, coalesce(project_member_id, organization_member_id),
	inviter_type, inviter_id, inviter_email, create_time, accept_time,
	coalesce(shareable_hash, ''), shareable_issued_by, shareable_issue_time, shareable_expire_time,
	coalesce(emailed_hash, ''), emailed_issued_by, emailed_issue_time, emailed_expire_time`

func scanInvitation(row interface{ Scan(...any) error }) (domain.Invitation, error) {
	var inv domain.Invitation
	var typ string
	var created, accepted, sIssued, sExpires, eIssued, eExpires int64
	err := row.Scan(&inv.ID, &inv.UserID, &inv.OrganizationID, &inv.ProjectID, &inv.MembershipID,
		&typ, &inv.Inviter.ID, &inv.InviterEmail, &created, &accepted,
		&inv.Shareable.Hash, &inv.Shareable.IssuedBy, &sIssued, &sExpires,
		&inv.Emailed.Hash, &inv.Emailed.IssuedBy, &eIssued, &eExpires)
	inv.Inviter.Type = domain.AccountType(typ)
	inv.CreateTime, inv.AcceptTime = fromMicros(created), fromMicros(accepted)
	inv.Shareable.IssueTime, inv.Shareable.ExpireTime = fromMicros(sIssued), fromMicros(sExpires)
	inv.Emailed.IssueTime, inv.Emailed.ExpireTime = fromMicros(eIssued), fromMicros(eExpires)
	return inv, notFound(err, "Invitation")
}

func (q queries) InvitationByTokenHash(ctx context.Context, tokenHash string) (domain.Invitation, domain.InviteKind, error) {
	// Two lookups, each on its own unique index.
	inv, err := scanInvitation(q.q.QueryRowContext(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE shareable_hash = ?", tokenHash))
	if err == nil {
		return inv, domain.InviteShareable, nil
	}
	if domain.ErrorCode(err) != domain.ENOTFOUND {
		return inv, "", err
	}
	inv, err = scanInvitation(q.q.QueryRowContext(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE emailed_hash = ?", tokenHash))
	return inv, domain.InviteEmailed, err
}

func (q queries) InvitationByID(ctx context.Context, id int64) (domain.Invitation, error) {
	return scanInvitation(q.q.QueryRowContext(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE id = ?", id))
}

func (q queries) InvitationForMembership(ctx context.Context, m domain.Membership) (domain.Invitation, error) {
	col := "organization_member_id"
	if m.ProjectID != "" {
		col = "project_member_id"
	}
	return scanInvitation(q.q.QueryRowContext(ctx, "SELECT "+invitationColumns+" FROM invitations WHERE "+col+" = ?", m.ID))
}

// findAccountsQuery finds accounts by id, email prefix or display name
// prefix (see FindAccounts).
const findAccountsQuery = `
		SELECT * FROM (SELECT 'USER', CAST(id AS TEXT), email, display_name, '' FROM users
			WHERE id = ? OR (email >= ? AND email < ?) ORDER BY email LIMIT ?)
		UNION
		SELECT * FROM (SELECT 'USER', CAST(id AS TEXT), email, display_name, '' FROM users
			WHERE display_name COLLATE NOCASE >= ? AND display_name COLLATE NOCASE < ? ORDER BY display_name COLLATE NOCASE LIMIT ?)
		UNION
		SELECT * FROM (SELECT 'SERVICE_ACCOUNT', id, email, display_name, project_id FROM service_accounts
			WHERE id = ? OR (email >= ? AND email < ?) ORDER BY email LIMIT ?)
		UNION
		SELECT * FROM (SELECT 'SERVICE_ACCOUNT', id, email, display_name, project_id FROM service_accounts
			WHERE name_key >= ? AND name_key < ? ORDER BY name_key LIMIT ?)
		ORDER BY 3 LIMIT ?`

func (q queries) FindAccounts(ctx context.Context, query string, limit int) ([]domain.AccountSummary, error) {
	// Exact ids, emails equal to or starting with the query, and display
	// names starting with it: ranges on the unique email indexes and the
	// name indexes (migration 010). UNION drops an account found twice.
	upper := query + "\uffff"
	userID, _ := strconv.ParseInt(query, 10, 64)
	// Each branch is bounded by the limit, so a one-letter query reads at
	// most four times the limit rows.
	rows, err := q.q.QueryContext(ctx, findAccountsQuery, userID, query, upper, limit, query, upper, limit, query, query, upper, limit, query, upper, limit, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.AccountSummary
	for rows.Next() {
		var a domain.AccountSummary
		var typ string
		if err := rows.Scan(&typ, &a.Account.ID, &a.Email, &a.DisplayName, &a.ProjectID); err != nil {
			return nil, err
		}
		a.Account.Type = domain.AccountType(typ)
		out = append(out, a)
	}
	return out, rows.Err()
}

func (t *writeTx) CreateInvitation(ctx context.Context, inv *domain.Invitation) error {
	var projectMember, orgMember any
	if inv.ProjectID != "" {
		projectMember = inv.MembershipID
	} else {
		orgMember = inv.MembershipID
	}
	res, err := t.q.ExecContext(ctx, `INSERT INTO invitations (user_id, organization_id, project_id, project_member_id,
		organization_member_id, inviter_type, inviter_id, inviter_email, create_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		inv.UserID, inv.OrganizationID, inv.ProjectID, projectMember, orgMember,
		string(inv.Inviter.Type), inv.Inviter.ID, inv.InviterEmail, micros(inv.CreateTime))
	if isUnique(err) {
		return domain.Errorf(domain.ECONFLICT, "This membership already has an invitation.")
	}
	if err != nil {
		return err
	}
	inv.ID, err = res.LastInsertId()
	return err
}

func (t *writeTx) SetInvitationToken(ctx context.Context, invitationID int64, kind domain.InviteKind, tok domain.InviteToken) error {
	prefix := "shareable"
	if kind == domain.InviteEmailed {
		prefix = "emailed"
	}
	var hash any
	if tok.Hash != "" {
		hash = tok.Hash
	}
	return t.execOne(ctx, "Invitation", `UPDATE invitations SET `+prefix+`_hash = ?, `+prefix+`_issued_by = ?, `+
		prefix+`_issue_time = ?, `+prefix+`_expire_time = ? WHERE id = ?`,
		hash, tok.IssuedBy, micros(tok.IssueTime), micros(tok.ExpireTime), invitationID)
}

func (t *writeTx) CloseInvitation(ctx context.Context, invitationID int64, at time.Time) error {
	return t.execOne(ctx, "Invitation", "UPDATE invitations SET accept_time = ? WHERE id = ? AND accept_time = 0", micros(at), invitationID)
}

func (t *writeTx) AcceptMembership(ctx context.Context, m domain.Membership) error {
	return t.execOne(ctx, "Membership", "UPDATE "+membershipTable(m)+" SET status = 'ACCEPTED' WHERE id = ? AND status = 'PENDING'", m.ID)
}

func (t *writeTx) SetUserName(ctx context.Context, userID int64, name string) error {
	return t.execOne(ctx, "User", "UPDATE users SET display_name = ? WHERE id = ?", name, userID)
}

func (t *writeTx) SetUserLocked(ctx context.Context, userID int64, locked bool) error {
	return t.execOne(ctx, "User", "UPDATE users SET locked = ? WHERE id = ?", locked, userID)
}

func (t *writeTx) AddOutbox(ctx context.Context, m domain.OutboxMessage) error {
	var invitation any
	if m.InvitationID != 0 {
		invitation = m.InvitationID
		res, err := t.q.ExecContext(ctx, "UPDATE outbox SET requested_by = ? WHERE invitation_id = ? AND sent_time = 0",
			m.RequestedBy, m.InvitationID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n > 0 {
			return err
		}
	}
	_, err := t.q.ExecContext(ctx, "INSERT INTO outbox (to_email, subject, body, invitation_id, requested_by, create_time) VALUES (?, ?, ?, ?, ?, ?)",
		m.To, m.Subject, m.Body, invitation, m.RequestedBy, micros(m.CreateTime))
	return err
}
