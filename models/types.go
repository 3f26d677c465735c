package models

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/forgeauth/authstore/config"
	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// UUID is a row identifier: a UUID made in Go (SQLite has no gen_random_uuid),
// stored as uuid on PostgreSQL, as TEXT on SQLite and as CHAR(36) on MySQL
// (a key cannot be TEXT there).
type UUID string

// NewUUID returns a new random (version 4) UUID.
func NewUUID() UUID { return UUID(uuid.NewString()) }

// ParseUUID returns s as a UUID in canonical lower-case form, or an error if
// s is not a UUID.
func ParseUUID(s string) (UUID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return "", errors.New("not a uuid")
	}
	return UUID(u.String()), nil
}

// String returns the UUID's text.
func (u UUID) String() string { return string(u) }

// Valid reports whether u is a canonical UUID.
func (u UUID) Valid() bool {
	p, err := uuid.Parse(string(u))
	return err == nil && p.String() == string(u)
}

// GormDBDataType declares the column type per dialect.
func (UUID) GormDBDataType(db *gorm.DB, _ *schema.Field) string {
	switch config.Dialect(db.Dialector.Name()) {
	case config.DialectPostgres:
		return "uuid"
	case config.DialectMySQL:
		return "char(36)"
	}
	return "text"
}

// Value stores an empty UUID as NULL, so a missing key fails a NOT NULL
// constraint instead of being stored as an empty string.
func (u UUID) Value() (driver.Value, error) {
	if u == "" {
		return nil, nil
	}
	return string(u), nil
}

// Scan reads a UUID from a text or byte column.
func (u *UUID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*u = ""
	case string:
		*u = UUID(v)
	case []byte:
		*u = UUID(string(v))
	case [16]byte:
		*u = UUID(uuid.UUID(v).String())
	default:
		return fmt.Errorf("models: cannot scan %T into UUID", src)
	}
	return nil
}

// Strings is a list of strings (scopes, redirect URIs, grant types) stored as
// a JSON array in a text column, which both dialects read and index alike.
type Strings []string

// GormDataType declares the column as text on every dialect.
func (Strings) GormDataType() string { return "text" }

// Value encodes the list as a JSON array; a nil list is stored as [].
func (s Strings) Value() (driver.Value, error) {
	if s == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(s))
	return string(b), err
}

// Scan decodes a JSON array.
func (s *Strings) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*s = nil
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("models: cannot scan %T into Strings", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("models: strings column is not a JSON array: %w", err)
	}
	*s = out
	return nil
}

// Contains reports whether v is in the list.
func (s Strings) Contains(v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
