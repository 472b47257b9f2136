package domain_test

import (
	"fmt"
	"sort"
	"testing"

	"studio/domain"
)

// The role names as api-v2.md spells them, typed here rather than taken
// from the domain package's constants.
const (
	contractUser  = "roles/project.user"
	contractDev   = "roles/project.developer"
	contractAdmin = "roles/project.admin"
	contractOrg   = "roles/organization.admin"
)

var contractRoles = []string{contractUser, contractDev, contractAdmin, contractOrg}

// contractMatrix is the "Roles and permissions" table of api-v2.md, written
// out one permission per row: project.user, project.developer,
// project.admin, organization.admin.
var contractMatrix = []struct {
	perm                   string
	user, dev, admin, orgA bool
}{
	{"project.read", true, true, true, true},
	{"membership.read", true, true, true, true},
	{"serviceaccount.read", true, true, true, true},
	{"serviceaccount.key.read", true, true, true, true},
	{"device.read", true, true, true, true},
	{"sensor.read", true, true, true, true},
	{"dataconnector.read", true, true, true, true},
	{"emulator.read", true, true, true, true},

	{"device.update", false, true, true, true},
	{"sensor.update", false, true, true, true},
	{"dataconnector.create", false, true, true, true},
	{"dataconnector.update", false, true, true, true},
	{"dataconnector.delete", false, true, true, true},
	{"emulator.create", false, true, true, true},
	{"emulator.update", false, true, true, true},
	{"emulator.delete", false, true, true, true},

	{"project.update", false, false, true, true},
	{"project.delete", false, false, true, true},
	{"device.transfer", false, false, true, true},
	{"membership.create", false, false, true, true},
	{"membership.update", false, false, true, true},
	{"membership.delete", false, false, true, true},
	{"serviceaccount.create", false, false, true, true},
	{"serviceaccount.update", false, false, true, true},
	{"serviceaccount.delete", false, false, true, true},
	{"serviceaccount.key.create", false, false, true, true},
	{"serviceaccount.key.delete", false, false, true, true},

	{"project.create", false, false, false, true},
	{"organization.read", false, false, false, true},
	{"organization.update", false, false, false, true},
}

// contractAllows reports what the contract grants role (one of
// contractRoles, or "" for no role at all).
func contractAllows(t *testing.T, role, perm string) bool {
	t.Helper()
	for _, row := range contractMatrix {
		if row.perm != perm {
			continue
		}
		switch role {
		case "":
			return false
		case contractUser:
			return row.user
		case contractDev:
			return row.dev
		case contractAdmin:
			return row.admin
		case contractOrg:
			return row.orgA
		}
		t.Fatalf("unknown role %q", role)
	}
	t.Fatalf("permission %q is not in the contract", perm)
	return false
}

func TestRoleConstantsSpellTheContract(t *testing.T) {
	for _, c := range []struct {
		got  domain.Role
		want string
	}{
		{domain.RoleProjectUser, contractUser},
		{domain.RoleProjectDev, contractDev},
		{domain.RoleProjectAdmin, contractAdmin},
		{domain.RoleOrgAdmin, contractOrg},
		{domain.RoleNone, ""},
	} {
		if string(c.got) != c.want {
			t.Errorf("role constant = %q, contract says %q", c.got, c.want)
		}
	}
}

func TestRoleHasMatchesContractMatrix(t *testing.T) {
	if len(contractMatrix) != 30 {
		t.Fatalf("contract matrix typed with %d rows, want 30", len(contractMatrix))
	}
	for _, row := range contractMatrix {
		for _, role := range contractRoles {
			t.Run(role+"/"+row.perm, func(t *testing.T) {
				want := contractAllows(t, role, row.perm)
				if got := domain.Role(role).Has(domain.Permission(row.perm)); got != want {
					t.Errorf("Role(%q).Has(%q) = %v, contract says %v", role, row.perm, got, want)
				}
			})
		}
	}
}

func TestRoleNoneAndUnknownRolesHaveNothing(t *testing.T) {
	for _, role := range []domain.Role{domain.RoleNone, "roles/project.owner", "project.admin", "ROLES/PROJECT.ADMIN", "roles/organization.user"} {
		for _, row := range contractMatrix {
			if role.Has(domain.Permission(row.perm)) {
				t.Errorf("Role(%q).Has(%q) = true, want false", role, row.perm)
			}
		}
		if _, ok := domain.LookupRole(role); ok {
			t.Errorf("LookupRole(%q) found a row", role)
		}
	}
	// Permissions not in the contract are held by nobody.
	for _, role := range contractRoles {
		for _, p := range []domain.Permission{"", "organization.delete", "project.READ", "user.read"} {
			if domain.Role(role).Has(p) {
				t.Errorf("Role(%q).Has(%q) = true for a permission outside the contract", role, p)
			}
		}
	}
}

func TestAllPermissionsIsTheContractList(t *testing.T) {
	var want []string
	for _, row := range contractMatrix {
		want = append(want, row.perm)
	}
	var got []string
	seen := map[domain.Permission]bool{}
	for _, p := range domain.AllPermissions {
		if seen[p] {
			t.Errorf("AllPermissions lists %q twice", p)
		}
		seen[p] = true
		got = append(got, string(p))
	}
	sort.Strings(want)
	sort.Strings(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("AllPermissions =\n %v\nwant\n %v", got, want)
	}
}

func TestLookupRoleTextsAndPermissions(t *testing.T) {
	texts := map[string][2]string{
		contractUser:  {"Project user", "Users cannot change anything, just view the data in the Project"},
		contractDev:   {"Project developer", "Allows editing devices and Project settings"},
		contractAdmin: {"Project admin", "Can move devices between projects inside the organization. Can add and remove users in the project."},
		contractOrg:   {"Organization admin", "Can create new Projects and have Project administrator access in all Projects of the Organization."},
	}
	if len(domain.Roles) != len(contractRoles) {
		t.Errorf("domain.Roles has %d rows, contract has %d roles", len(domain.Roles), len(contractRoles))
	}
	for _, role := range contractRoles {
		info, ok := domain.LookupRole(domain.Role(role))
		if !ok {
			t.Errorf("LookupRole(%q) not found", role)
			continue
		}
		if string(info.Role) != role {
			t.Errorf("LookupRole(%q).Role = %q", role, info.Role)
		}
		if info.DisplayName != texts[role][0] {
			t.Errorf("LookupRole(%q).DisplayName = %q, want %q", role, info.DisplayName, texts[role][0])
		}
		if info.Description != texts[role][1] {
			t.Errorf("LookupRole(%q).Description = %q, want %q", role, info.Description, texts[role][1])
		}
		if got := domain.RoleDisplayName(domain.Role(role)); got != texts[role][0] {
			t.Errorf("RoleDisplayName(%q) = %q, want %q", role, got, texts[role][0])
		}
		// The permissions listed for the role (the API's Role.permissions) are
		// exactly the contract's column, each once.
		var want, got []string
		for _, row := range contractMatrix {
			if contractAllows(t, role, row.perm) {
				want = append(want, row.perm)
			}
		}
		seen := map[domain.Permission]bool{}
		for _, p := range info.Permissions {
			if seen[p] {
				t.Errorf("role %q lists %q twice", role, p)
			}
			seen[p] = true
			got = append(got, string(p))
		}
		sort.Strings(want)
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("role %q permissions =\n %v\nwant\n %v", role, got, want)
		}
	}
	if got := domain.RoleDisplayName(domain.RoleNone); got != "No access" {
		t.Errorf("RoleDisplayName(RoleNone) = %q, want %q", got, "No access")
	}
}

func TestValidProjectRole(t *testing.T) {
	for _, c := range []struct {
		role string
		want bool
	}{
		{contractUser, true},
		{contractDev, true},
		{contractAdmin, true},
		{contractOrg, false}, // organization memberships only
		{"", false},
		{"roles/project.owner", false},
		{"project.user", false},
	} {
		if got := domain.ValidProjectRole(domain.Role(c.role)); got != c.want {
			t.Errorf("ValidProjectRole(%q) = %v, want %v", c.role, got, c.want)
		}
	}
	for _, r := range domain.ProjectRoles {
		if !domain.ValidProjectRole(r) {
			t.Errorf("ProjectRoles lists %q, which ValidProjectRole refuses", r)
		}
	}
	if len(domain.ProjectRoles) != 3 {
		t.Errorf("ProjectRoles has %d roles, want 3", len(domain.ProjectRoles))
	}
}

func TestEffectiveRole(t *testing.T) {
	for _, pr := range []string{"", contractUser, contractDev, contractAdmin} {
		if got := domain.EffectiveRole(domain.Role(pr), false); string(got) != pr {
			t.Errorf("EffectiveRole(%q, false) = %q, want %q", pr, got, pr)
		}
		if got := domain.EffectiveRole(domain.Role(pr), true); string(got) != contractOrg {
			t.Errorf("EffectiveRole(%q, true) = %q, want %q", pr, got, contractOrg)
		}
	}
}

// TestAccessRequire checks every project role (and none), alone and combined
// with organization admin, against every permission: nil when the contract
// grants it, not-found when the effective role cannot even read the project,
// forbidden otherwise.
func TestAccessRequire(t *testing.T) {
	project := domain.Project{ID: "c18rs36olv9021epsv2g", OrganizationID: "c18rs36olv9021epsv2h", DisplayName: "P"}
	for _, projectRole := range []string{"", contractUser, contractDev, contractAdmin} {
		for _, orgAdmin := range []bool{false, true} {
			effective := projectRole
			if orgAdmin {
				effective = contractOrg
			}
			canRead := contractAllows(t, effective, "project.read")
			for _, row := range contractMatrix {
				name := fmt.Sprintf("role=%q/orgAdmin=%v/%s", projectRole, orgAdmin, row.perm)
				t.Run(name, func(t *testing.T) {
					a := domain.Access{Project: project, ProjectRole: domain.Role(projectRole), OrgAdmin: orgAdmin}
					if got := a.Role(); string(got) != effective {
						t.Errorf("Access.Role() = %q, want %q", got, effective)
					}
					allowed := contractAllows(t, effective, row.perm)
					if got := a.Can(domain.Permission(row.perm)); got != allowed {
						t.Errorf("Can(%q) = %v, want %v", row.perm, got, allowed)
					}
					err := a.Require(domain.Permission(row.perm))
					var want string
					switch {
					case allowed:
						want = ""
					case !canRead:
						want = domain.ENOTFOUND
					default:
						want = domain.EFORBIDDEN
					}
					if got := domain.ErrorCode(err); got != want {
						t.Errorf("Require(%q) error code = %q (%v), want %q", row.perm, got, err, want)
					}
				})
			}
		}
	}
}

// An organization admin holds at least project.admin's permissions in every
// project of the organization, whatever its own project role.
func TestOrgAdminCoversProjectAdmin(t *testing.T) {
	for _, row := range contractMatrix {
		if !row.admin {
			continue
		}
		for _, pr := range []string{"", contractUser, contractDev, contractAdmin} {
			a := domain.Access{ProjectRole: domain.Role(pr), OrgAdmin: true}
			if err := a.Require(domain.Permission(row.perm)); err != nil {
				t.Errorf("org admin with project role %q: Require(%q) = %v", pr, row.perm, err)
			}
		}
	}
}

// The not-found refusal must not reveal the project: its message is the
// generic one, without the project's id or name.
func TestAccessRequireNotFoundRevealsNothing(t *testing.T) {
	a := domain.Access{Project: domain.Project{ID: "c18rs36olv9021epsv2g", DisplayName: "Secret plans"}}
	err := a.Require(domain.PermProjectUpdate)
	if domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("Require = %v, want not found", err)
	}
	if msg := domain.ErrorMessage(err); msg != domain.ErrorMessage(domain.ErrNotFound("Project")) {
		t.Errorf("message %q differs from the generic not-found message", msg)
	}
}
