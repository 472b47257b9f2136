package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"studio/domain"
)

// accountOf reads a membership's account from its two nullable columns.
func accountOf(userID sql.NullInt64, saID sql.NullString) domain.AccountRef {
	if userID.Valid {
		return domain.AccountRef{Type: domain.AccountUser, ID: strconv.FormatInt(userID.Int64, 10)}
	}
	return domain.AccountRef{Type: domain.AccountServiceAccount, ID: saID.String}
}

func (q queries) ProjectMembership(ctx context.Context, projectID string, account domain.AccountRef) (domain.Membership, error) {
	col, val, err := accountColumn(account)
	if err != nil {
		return domain.Membership{}, err
	}
	ms, err := q.members(ctx, "project_members m", "m.project_id = ? AND m."+col+" = ?", []any{projectID, val}, 0, 1)
	if err != nil {
		return domain.Membership{}, err
	}
	if len(ms) == 0 {
		return domain.Membership{}, domain.ErrNotFound("Membership")
	}
	return ms[0], nil
}

func (q queries) AccountMemberships(ctx context.Context, account domain.AccountRef, limit int) ([]domain.Membership, error) {
	col, val, err := accountColumn(account)
	if err != nil {
		return nil, err
	}
	rows, err := q.q.QueryContext(ctx, `
		SELECT * FROM (
			SELECT 0 AS scope, m.id, m.organization_id, o.display_name, '', '', m.user_id, m.service_account_id, m.role, m.status, m.create_time
			FROM organization_members m JOIN organizations o ON o.id = m.organization_id
			WHERE m.`+col+` = ?
			UNION ALL
			SELECT 1, m.id, p.organization_id, o.display_name, p.id, p.display_name, m.user_id, m.service_account_id, m.role, m.status, m.create_time
			FROM project_members m JOIN projects p ON p.id = m.project_id JOIN organizations o ON o.id = p.organization_id
			WHERE m.`+col+` = ?)
		ORDER BY scope, 4, 6 LIMIT ?`, val, val, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Membership
	for rows.Next() {
		var m domain.Membership
		var scope int
		var userID sql.NullInt64
		var saID sql.NullString
		var role, status string
		var created int64
		if err := rows.Scan(&scope, &m.ID, &m.OrganizationID, &m.OrganizationDisplayName, &m.ProjectID, &m.ProjectDisplayName,
			&userID, &saID, &role, &status, &created); err != nil {
			return nil, err
		}
		m.Account, m.Role, m.Status, m.CreateTime = accountOf(userID, saID), domain.Role(role), domain.MembershipStatus(status), fromMicros(created)
		out = append(out, m)
	}
	return out, rows.Err()
}

// membershipTable is the table holding a membership of this scope.
func membershipTable(m domain.Membership) string {
	if m.ProjectID != "" {
		return "project_members"
	}
	return "organization_members"
}

func (t *writeTx) SetMembershipRole(ctx context.Context, m domain.Membership, role domain.Role) error {
	return t.execOne(ctx, "Membership", fmt.Sprintf("UPDATE %s SET role = ? WHERE id = ?", membershipTable(m)), string(role), m.ID)
}

func (t *writeTx) DeleteMembership(ctx context.Context, m domain.Membership) error {
	return t.execOne(ctx, "Membership", fmt.Sprintf("DELETE FROM %s WHERE id = ?", membershipTable(m)), m.ID)
}
