// Package repositories is authstore's persistence API: one implementation
// per table family over *gorm.DB, serving PostgreSQL and SQLite alike.
//
// Every exported method takes a context first and runs as one transaction.
// Errors wrap the sentinels declared here (ErrNotFound, ErrDuplicate,
// ErrInvalidInput, ...); GORM and driver errors are translated at this
// boundary and never leak a bound value.
package repositories
