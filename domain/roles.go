package domain

// Permission names are those of the API contract.
type Permission string

const (
	PermProjectRead          Permission = "project.read"
	PermMembershipRead       Permission = "membership.read"
	PermServiceAccountRead   Permission = "serviceaccount.read"
	PermKeyRead              Permission = "serviceaccount.key.read"
	PermDeviceRead           Permission = "device.read"
	PermSensorRead           Permission = "sensor.read"
	PermDataConnectorRead    Permission = "dataconnector.read"
	PermEmulatorRead         Permission = "emulator.read"
	PermDeviceUpdate         Permission = "device.update"
	PermSensorUpdate         Permission = "sensor.update"
	PermDataConnectorCreate  Permission = "dataconnector.create"
	PermDataConnectorUpdate  Permission = "dataconnector.update"
	PermDataConnectorDelete  Permission = "dataconnector.delete"
	PermEmulatorCreate       Permission = "emulator.create"
	PermEmulatorUpdate       Permission = "emulator.update"
	PermEmulatorDelete       Permission = "emulator.delete"
	PermProjectUpdate        Permission = "project.update"
	PermProjectDelete        Permission = "project.delete"
	PermDeviceTransfer       Permission = "device.transfer"
	PermMembershipCreate     Permission = "membership.create"
	PermMembershipUpdate     Permission = "membership.update"
	PermMembershipDelete     Permission = "membership.delete"
	PermServiceAccountCreate Permission = "serviceaccount.create"
	PermServiceAccountUpdate Permission = "serviceaccount.update"
	PermServiceAccountDelete Permission = "serviceaccount.delete"
	PermKeyCreate            Permission = "serviceaccount.key.create"
	PermKeyDelete            Permission = "serviceaccount.key.delete"
	PermProjectCreate        Permission = "project.create"
	PermOrganizationRead     Permission = "organization.read"
	PermOrganizationUpdate   Permission = "organization.update"
)

// Role is a role name as the API spells it.
type Role string

const (
	RoleNone         Role = ""
	RoleProjectUser  Role = "roles/project.user"
	RoleProjectDev   Role = "roles/project.developer"
	RoleProjectAdmin Role = "roles/project.admin"
	RoleOrgAdmin     Role = "roles/organization.admin"
)

// RoleInfo describes a role for people and for the API's roles endpoint.
type RoleInfo struct {
	Role        Role
	DisplayName string
	Description string
	Permissions []Permission
}

var userPermissions = []Permission{
	PermProjectRead, PermMembershipRead, PermServiceAccountRead, PermKeyRead,
	PermDeviceRead, PermSensorRead, PermDataConnectorRead, PermEmulatorRead,
}

var developerPermissions = concat(userPermissions, []Permission{
	PermDeviceUpdate, PermSensorUpdate,
	PermDataConnectorCreate, PermDataConnectorUpdate, PermDataConnectorDelete,
	PermEmulatorCreate, PermEmulatorUpdate, PermEmulatorDelete,
})

var adminPermissions = concat(developerPermissions, []Permission{
	PermProjectUpdate, PermProjectDelete, PermDeviceTransfer,
	PermMembershipCreate, PermMembershipUpdate, PermMembershipDelete,
	PermServiceAccountCreate, PermServiceAccountUpdate, PermServiceAccountDelete,
	PermKeyCreate, PermKeyDelete,
})

var orgAdminPermissions = concat(adminPermissions, []Permission{
	PermProjectCreate, PermOrganizationRead, PermOrganizationUpdate,
})

// Roles is the one permission table of the product, in rising order of power.
var Roles = []RoleInfo{
	{RoleProjectUser, "Project user", "Users cannot change anything, just view the data in the Project", userPermissions},
	{RoleProjectDev, "Project developer", "Allows editing devices and Project settings", developerPermissions},
	{RoleProjectAdmin, "Project admin", "Can move devices between projects inside the organization. Can add and remove users in the project.", adminPermissions},
	{RoleOrgAdmin, "Organization admin", "Can create new Projects and have Project administrator access in all Projects of the Organization.", orgAdminPermissions},
}

// AllPermissions lists every permission once, in table order.
var AllPermissions = orgAdminPermissions

func concat(a, b []Permission) []Permission {
	out := make([]Permission, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}

// LookupRole returns the table row of a role.
func LookupRole(r Role) (RoleInfo, bool) {
	for _, info := range Roles {
		if info.Role == r {
			return info, true
		}
	}
	return RoleInfo{}, false
}

// ProjectRoles are the roles a project membership may hold.
var ProjectRoles = []Role{RoleProjectUser, RoleProjectDev, RoleProjectAdmin}

// ValidProjectRole reports whether r may be held in a project membership.
func ValidProjectRole(r Role) bool {
	return r == RoleProjectUser || r == RoleProjectDev || r == RoleProjectAdmin
}

// RoleDisplayName returns the human name of a role, "No access" for none.
func RoleDisplayName(r Role) string {
	if info, ok := LookupRole(r); ok {
		return info.DisplayName
	}
	return "No access"
}

// Has reports whether role r grants permission p.
func (r Role) Has(p Permission) bool {
	info, ok := LookupRole(r)
	if !ok {
		return false
	}
	for _, q := range info.Permissions {
		if q == p {
			return true
		}
	}
	return false
}

// EffectiveRole is the role an account holds in a project: its project role,
// raised to organization admin when it administers the project's organization.
func EffectiveRole(projectRole Role, orgAdmin bool) Role {
	if orgAdmin {
		return RoleOrgAdmin
	}
	return projectRole
}

// Access is what an account holds in one project: the input of every
// permission decision.
type Access struct {
	Project     Project
	ProjectRole Role // RoleNone when the account has no accepted project membership
	OrgAdmin    bool
}

// Role returns the effective role.
func (a Access) Role() Role { return EffectiveRole(a.ProjectRole, a.OrgAdmin) }

// Can reports whether the access grants permission p.
func (a Access) Can(p Permission) bool { return a.Role().Has(p) }

// Require returns nil when the access grants p. An account that cannot even
// read the project gets not-found, so it learns nothing of the project;
// one that can read it but lacks p gets forbidden.
func (a Access) Require(p Permission) error {
	if a.Can(p) {
		return nil
	}
	if !a.Can(PermProjectRead) {
		return ErrNotFound("Project")
	}
	return Errorf(EFORBIDDEN, "Your role in this project does not allow this (%s).", p)
}
