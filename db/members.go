package db

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

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

func (q queries) InvitationByHash(ctx context.Context, tokenHash string) (domain.Invitation, error) {
	inv := domain.Invitation{TokenHash: tokenHash}
	var created, expires int64
	err := q.q.QueryRowContext(ctx, "SELECT user_id, create_time, expire_time FROM invitations WHERE token_hash = ?", tokenHash).
		Scan(&inv.UserID, &created, &expires)
	inv.CreateTime, inv.ExpireTime = fromMicros(created), fromMicros(expires)
	return inv, notFound(err, "Invitation")
}

func (q queries) FindAccounts(ctx context.Context, query string, limit int) ([]domain.AccountSummary, error) {
	// Exact ids first, then emails equal to or starting with the query
	// (a range on the unique email indexes).
	upper := query + "\uffff"
	userID, _ := strconv.ParseInt(query, 10, 64)
	rows, err := q.q.QueryContext(ctx, `
		SELECT * FROM (
			SELECT 'USER', CAST(id AS TEXT), email, display_name, '' FROM users
			WHERE id = ? OR (email >= ? AND email < ?)
			UNION ALL
			SELECT 'SERVICE_ACCOUNT', id, email, display_name, project_id FROM service_accounts
			WHERE id = ? OR (email >= ? AND email < ?))
		ORDER BY 3 LIMIT ?`, userID, query, upper, query, query, upper, limit)
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

func (t *writeTx) CreateInvitation(ctx context.Context, inv domain.Invitation) error {
	_, err := t.q.ExecContext(ctx, "INSERT INTO invitations (token_hash, user_id, create_time, expire_time) VALUES (?, ?, ?, ?)",
		inv.TokenHash, inv.UserID, micros(inv.CreateTime), micros(inv.ExpireTime))
	return err
}

func (t *writeTx) DeleteInvitations(ctx context.Context, userID int64) error {
	_, err := t.q.ExecContext(ctx, "DELETE FROM invitations WHERE user_id = ?", userID)
	return err
}

func (t *writeTx) AcceptMemberships(ctx context.Context, userID int64) (int, error) {
	n := 0
	for _, table := range []string{"project_members", "organization_members"} {
		res, err := t.q.ExecContext(ctx, "UPDATE "+table+" SET status = 'ACCEPTED' WHERE user_id = ? AND status = 'PENDING'", userID)
		if err != nil {
			return n, err
		}
		c, _ := res.RowsAffected()
		n += int(c)
	}
	return n, nil
}

func (t *writeTx) SetUserName(ctx context.Context, userID int64, name string) error {
	return t.execOne(ctx, "User", "UPDATE users SET display_name = ? WHERE id = ?", name, userID)
}

func (t *writeTx) SetUserLocked(ctx context.Context, userID int64, locked bool) error {
	return t.execOne(ctx, "User", "UPDATE users SET locked = ? WHERE id = ?", locked, userID)
}

func (t *writeTx) AddOutbox(ctx context.Context, m domain.OutboxMessage) error {
	_, err := t.q.ExecContext(ctx, "INSERT INTO outbox (to_email, subject, body, create_time) VALUES (?, ?, ?, ?)",
		m.To, m.Subject, m.Body, micros(m.CreateTime))
	return err
}
