package db

import "studio/domain"

var _ domain.Store = (*DB)(nil)
var _ domain.Tx = (*writeTx)(nil)
