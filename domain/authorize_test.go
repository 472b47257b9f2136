package domain_test

import (
	"testing"

	"studio/domain"
)

// TestOperationTable: every operation needs one permission of the role
// table, and an access allows an operation exactly when its role grants
// that permission; an operation missing from the table is refused.
func TestOperationTable(t *testing.T) {
	known := map[domain.Permission]bool{}
	for _, p := range domain.AllPermissions {
		known[p] = true
	}
	ops := domain.Operations()
	if len(ops) < 18 {
		t.Fatalf("only %d operations in the table", len(ops))
	}
	for _, op := range ops {
		perm := op.Permission()
		if !known[perm] {
			t.Errorf("operation %s needs %q, which is not a permission of the role table", op, perm)
		}
		for _, role := range []domain.Role{domain.RoleNone, domain.RoleProjectUser, domain.RoleProjectDev, domain.RoleProjectAdmin} {
			for _, orgAdmin := range []bool{false, true} {
				a := domain.Access{ProjectRole: role, OrgAdmin: orgAdmin}
				want := a.Role().Has(perm)
				if got := a.Allows(op); got != want {
					t.Errorf("%s as %q (org admin %v): Allows = %v, want %v", op, role, orgAdmin, got, want)
				}
				if err := a.Authorize(op); (err == nil) != want {
					t.Errorf("%s as %q (org admin %v): Authorize = %v, want allowed %v", op, role, orgAdmin, err, want)
				}
			}
		}
	}
	admin := domain.Access{OrgAdmin: true}
	if admin.Allows("no.such.operation") || admin.Authorize("no.such.operation") == nil {
		t.Error("an operation missing from the table was allowed")
	}
	// Rotating is one operation with one permission: who may create keys.
	if domain.OpKeyRotate.Permission() != domain.PermKeyCreate {
		t.Errorf("rotate needs %s", domain.OpKeyRotate.Permission())
	}
}
