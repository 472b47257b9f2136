package sqlite

import (
	"context"

	"studio/domain"
)

func (t *writeTx) AddAudit(ctx context.Context, e domain.AuditEntry) error {
	_, err := t.q.ExecContext(ctx, `INSERT INTO audit_log (time, actor_type, actor_id, actor_email, actor_staff, action,
		target_type, target_id, target_name, organization_id, project_id, remote_addr, reason, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		micros(e.Time), string(e.ActorType), e.ActorID, e.ActorEmail, e.ActorStaff, e.Action,
		e.TargetType, e.TargetID, e.TargetName, e.OrganizationID, e.ProjectID, e.RemoteAddr, e.Reason, e.Detail)
	return err
}

func (q queries) ListAudit(ctx context.Context, f domain.AuditFilter, beforeID int64, limit int) ([]domain.AuditEntry, error) {
	// The names of the organization and project, as they are now, for
	// people; empty once deleted (the entry keeps the ids).
	query := `SELECT a.id, a.time, a.actor_type, a.actor_id, a.actor_email, a.actor_staff, a.action, a.target_type, a.target_id,
		a.target_name, a.organization_id, a.project_id, a.remote_addr, a.reason, a.detail,
		coalesce(o.display_name, ''), coalesce(p.display_name, '')
		FROM audit_log a
		LEFT JOIN organizations o ON o.id = a.organization_id
		LEFT JOIN projects p ON p.id = a.project_id
		WHERE 1 = 1`
	var args []any
	if f.OrganizationID != "" {
		query += " AND a.organization_id = ?"
		args = append(args, f.OrganizationID)
	}
	if f.ProjectID != "" {
		query += " AND a.project_id = ?"
		args = append(args, f.ProjectID)
	}
	if f.Actor != "" {
		query += " AND (a.actor_email = ? OR a.actor_id = ?)"
		args = append(args, f.Actor, f.Actor)
	}
	if f.Action != "" {
		query += " AND a.action = ?"
		args = append(args, f.Action)
	}
	if !f.Since.IsZero() {
		query += " AND a.time >= ?"
		args = append(args, micros(f.Since))
	}
	if !f.Until.IsZero() {
		query += " AND a.time < ?"
		args = append(args, micros(f.Until))
	}
	if beforeID > 0 {
		query += " AND a.id < ?"
		args = append(args, beforeID)
	}
	query += " ORDER BY a.id DESC LIMIT ?"
	rows, err := q.q.QueryContext(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.AuditEntry
	for rows.Next() {
		var e domain.AuditEntry
		var at int64
		var actorType string
		if err := rows.Scan(&e.ID, &at, &actorType, &e.ActorID, &e.ActorEmail, &e.ActorStaff, &e.Action, &e.TargetType,
			&e.TargetID, &e.TargetName, &e.OrganizationID, &e.ProjectID, &e.RemoteAddr, &e.Reason, &e.Detail,
			&e.OrganizationName, &e.ProjectName); err != nil {
			return nil, err
		}
		e.Time, e.ActorType = fromMicros(at), domain.AccountType(actorType)
		out = append(out, e)
	}
	return out, rows.Err()
}
