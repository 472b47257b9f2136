package domain

import "context"

// Operation is something a principal asks a service to do in a project.
// Each operation needs exactly one permission, written once, in
// operationPermissions: the services authorize by operation, and the
// console and the API ask a service (or an Access it returned) whether an
// operation is allowed, so no handler or view names a permission.
type Operation string

// The project operations.
const (
	OpProjectRead   Operation = "project.read"
	OpProjectUpdate Operation = "project.update"
	OpProjectDelete Operation = "project.delete"

	OpServiceAccountRead   Operation = "serviceaccount.read"
	OpServiceAccountCreate Operation = "serviceaccount.create"
	// OpServiceAccountUpdate renames an account, switches its Basic Auth,
	// disables or enables it.
	OpServiceAccountUpdate Operation = "serviceaccount.update"
	// OpServiceAccountSetRole sets the account's role in its owning project.
	OpServiceAccountSetRole Operation = "serviceaccount.setRole"
	OpServiceAccountDelete  Operation = "serviceaccount.delete"

	OpKeyRead   Operation = "key.read"
	OpKeyCreate Operation = "key.create"
	// OpKeyRotate makes a new key and gives the old one a grace period.
	OpKeyRotate Operation = "key.rotate"
	// OpKeyDisable disables a key or enables it again.
	OpKeyDisable           Operation = "key.disable"
	OpKeyReportCompromised Operation = "key.reportCompromised"
	OpKeyDelete            Operation = "key.delete"

	OpMemberRead Operation = "member.read"
	// OpMemberInvite adds a member, and issues a pending member's invite
	// link: whoever holds the link takes the membership.
	OpMemberInvite Operation = "member.invite"
	OpMemberUpdate Operation = "member.update"
	OpMemberRemove Operation = "member.remove"
)

// operationPermissions is the one table of which permission each operation
// needs. An operation missing here is refused.
var operationPermissions = map[Operation]Permission{
	OpProjectRead:   PermProjectRead,
	OpProjectUpdate: PermProjectUpdate,
	OpProjectDelete: PermProjectDelete,

	OpServiceAccountRead:    PermServiceAccountRead,
	OpServiceAccountCreate:  PermServiceAccountCreate,
	OpServiceAccountUpdate:  PermServiceAccountUpdate,
	OpServiceAccountSetRole: PermServiceAccountUpdate,
	OpServiceAccountDelete:  PermServiceAccountDelete,

	OpKeyRead:   PermKeyRead,
	OpKeyCreate: PermKeyCreate,
	// Rotating creates the new key; the old one is not deleted but ends
	// after its grace (every role that may create keys may delete them).
	OpKeyRotate:            PermKeyCreate,
	OpKeyDisable:           PermKeyDelete,
	OpKeyReportCompromised: PermKeyDelete,
	OpKeyDelete:            PermKeyDelete,

	OpMemberRead:   PermMembershipRead,
	OpMemberInvite: PermMembershipCreate,
	OpMemberUpdate: PermMembershipUpdate,
	OpMemberRemove: PermMembershipDelete,
}

// Operations lists every operation of the table.
func Operations() []Operation {
	out := make([]Operation, 0, len(operationPermissions))
	for op := range operationPermissions {
		out = append(out, op)
	}
	return out
}

// Permission is the permission the operation needs ("" for an unknown one).
func (op Operation) Permission() Permission { return operationPermissions[op] }

// Allows reports whether the access allows the operation.
func (a Access) Allows(op Operation) bool {
	perm, ok := operationPermissions[op]
	return ok && a.Can(perm)
}

// Authorize returns nil when the access allows the operation; otherwise
// not-found when the account cannot even read the project, forbidden when it can.
func (a Access) Authorize(op Operation) error {
	perm, ok := operationPermissions[op]
	if !ok {
		return Errorf(EFORBIDDEN, "This operation is not allowed (%s).", op)
	}
	return a.Require(perm)
}

// authorizeProject is the one permission decision in a project: it loads
// what the principal holds there and authorizes the operation. An invalid
// project id is not found, as a project that does not exist.
func authorizeProject(ctx context.Context, r AccessReader, p Principal, projectID string, op Operation) (Access, error) {
	if !ValidID(projectID) {
		return Access{}, ErrNotFound("Project")
	}
	a, err := r.AccessIn(ctx, p.Account, projectID)
	if err != nil {
		return Access{}, err
	}
	return a, a.Authorize(op)
}
