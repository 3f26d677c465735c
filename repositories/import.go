package repositories

import (
	"context"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/forgeauth/authstore/hooks"
	"github.com/forgeauth/authstore/models"
	"gorm.io/gorm"
)

// This file moves users and clients between stores, and in from other
// systems: Users.Export and Clients.Export read every row in the form that
// Users.Import and Clients.Import recreate it from. Import stores password
// hashes and client secret hashes as given, after checking their format:
// no Argon2id work runs, so ten thousand users import in seconds, and a
// bcrypt hash is upgraded to Argon2id at the user's next successful login
// (Users.Authenticate).
//
// Import never changes a row that exists: a row whose id (or, for a user
// given without an id, whose email, compared normalised as Users.Create does) is
// already stored is reported unchanged when the stored row holds the same
// values, and skipped, with the fields that differ, when it does not. A
// second run of the same import therefore changes nothing.

// DefaultImportBatchSize is how many rows one import transaction writes
// when ImportOptions.BatchSize is 0.
const DefaultImportBatchSize = 500

// exportPageSize is how many rows Export reads per query.
const exportPageSize = 1000

// ImportUser is a user as Users.Export writes it and Users.Import reads it.
type ImportUser struct {
	// ID is kept when given; empty means a new id, and the user is matched
	// by email.
	ID    models.UUID
	Name  string
	Email string
	// PasswordHash is an Argon2id PHC string or a bcrypt hash ($2a$, $2b$,
	// $2y$, cost 4 to 16), stored as given. A plaintext is refused.
	PasswordHash    string
	EmailVerifiedAt *time.Time
	// CreatedAt and UpdatedAt are kept when set; zero means the import's
	// time.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ImportClient is a client as Clients.Export writes it and Clients.Import
// reads it. Its id is required: it is the client_id the client's
// applications are configured with.
type ImportClient struct {
	ID     models.UUID
	UserID *models.UUID
	Name   string
	// SecretHash is the stored hash of a confidential client's secret (an
	// Argon2id PHC string, or a bcrypt hash); nil for a public client. The
	// plaintext secret is never exported and cannot be imported.
	SecretHash           *string
	RedirectURIs         []string
	GrantTypes           []string
	Scopes               []string
	Confidential         bool
	PersonalAccessClient bool
	Revoked              bool
	// ProviderMetadata is what an OpenID provider reads of the client.
	ProviderMetadata
	// CreatedAt and UpdatedAt are kept when set; zero means the import's
	// time.
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ImportOptions change how Users.Import and Clients.Import run.
type ImportOptions struct {
	// DryRun classifies every row as the import would, and writes nothing.
	DryRun bool
	// BatchSize is the number of rows per transaction (0 means
	// DefaultImportBatchSize).
	BatchSize int
	// Progress, when set, is called after each batch with the rows done and
	// the rows in all.
	Progress func(done, total int)
	// PendingUsers are user ids a dry run of Clients.Import counts as
	// existing owners: those a dry run of Users.Import would create just
	// before (ImportResult.CreatedIDs).
	PendingUsers []models.UUID
}

// ImportOutcome is what an import did with one row.
type ImportOutcome string

const (
	// ImportCreated means the row was inserted (or would be, in a dry run).
	ImportCreated ImportOutcome = "created"
	// ImportUnchanged means the stored row already holds the same values.
	ImportUnchanged ImportOutcome = "unchanged"
	// ImportSkipped means the row was left out: its id or email is stored
	// with other values, or a client's owner does not exist. The reason
	// says which.
	ImportSkipped ImportOutcome = "skipped"
)

// ImportRow is the outcome of one row of an import.
type ImportRow struct {
	// Index is the row's position in the rows given to Import.
	Index int
	// ID is the row's id: the one given, the stored row's, or the new one.
	ID      models.UUID
	Outcome ImportOutcome
	// Reason says why a row was skipped; empty otherwise.
	Reason string
}

// ImportResult is what Users.Import or Clients.Import did, row by row.
type ImportResult struct {
	Created, Unchanged, Skipped int
	// Rows holds every row's outcome, in input order.
	Rows []ImportRow
}

// CreatedIDs returns the ids of the rows created (or, in a dry run, that
// would be).
func (r ImportResult) CreatedIDs() []models.UUID {
	var out []models.UUID
	for _, row := range r.Rows {
		if row.Outcome == ImportCreated {
			out = append(out, row.ID)
		}
	}
	return out
}

func (r *ImportResult) add(row ImportRow) {
	switch row.Outcome {
	case ImportCreated:
		r.Created++
	case ImportUnchanged:
		r.Unchanged++
	case ImportSkipped:
		r.Skipped++
	}
	r.Rows = append(r.Rows, row)
}

// bcryptHash is the form hooks.Hasher.Verify accepts for bcrypt: $2a$,
// $2b$ or $2y$, a cost of 4 to 16, 53 characters of salt and hash.
var bcryptHash = regexp.MustCompile(`^\$2[aby]\$(0[4-9]|1[0-6])\$[./A-Za-z0-9]{53}$`)

// checkImportedHash checks the format of a stored password or secret hash
// without any hashing work, and returns its scheme ("argon2id" or
// "bcrypt"). The error never holds the value.
func checkImportedHash(what, h string) (string, error) {
	switch {
	case strings.HasPrefix(h, "$argon2id$"):
		if _, err := hooks.ParseArgon2id(h); err != nil {
			return "", fmt.Errorf("%s is not a usable Argon2id PHC string (%v): %w", what, err, ErrInvalidInput)
		}
		return "argon2id", nil
	case strings.HasPrefix(h, "$2a$"), strings.HasPrefix(h, "$2b$"), strings.HasPrefix(h, "$2y$"):
		if !bcryptHash.MatchString(h) {
			return "", fmt.Errorf("%s is not a well-formed bcrypt hash with a cost of 4 to 16: %w", what, ErrInvalidInput)
		}
		return "bcrypt", nil
	case h == "":
		return "", fmt.Errorf("%s is empty: %w", what, ErrInvalidInput)
	}
	return "", fmt.Errorf("%s is neither an Argon2id PHC string nor a bcrypt hash ($2a$, $2b$, $2y$); plaintext is refused: %w", what, ErrInvalidInput)
}

// importTime returns t in UTC at the database's resolution.
func importTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// checkImportTimes refuses an imported time that both databases cannot
// store and read back alike (checkStoredTime), naming its field; a nil
// time passes.
func checkImportTimes(times map[string]*time.Time) error {
	for _, field := range []string{"created_at", "updated_at", "email_verified_at"} {
		if t := times[field]; t != nil {
			if err := checkStoredTime(field, *t); err != nil {
				return err
			}
		}
	}
	return nil
}

func importTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := importTime(*t)
	return &v
}

// Validate checks an imported user as Users.Import does: the id, when
// given, a canonical UUID; the name and email as Users.Create checks them;
// the password hash an Argon2id PHC string or a bcrypt hash. It returns
// ErrInvalidInput naming the field. It does no hashing work.
func (u ImportUser) Validate() error {
	_, err := u.row()
	return err
}

// row validates u and returns the user to insert (without its id when none
// is given, and without timestamps it does not set).
func (u ImportUser) row() (*models.User, error) {
	if u.ID != "" {
		if err := validID("user id", u.ID); err != nil {
			return nil, err
		}
		if u.ID == noAccount {
			return nil, fmt.Errorf("user id is the nil uuid, which stands for no account: %w", ErrInvalidInput)
		}
	}
	name, email, err := validateProfile(u.Name, u.Email)
	if err != nil {
		return nil, err
	}
	if err := checkImportTimes(map[string]*time.Time{"created_at": &u.CreatedAt, "updated_at": &u.UpdatedAt, "email_verified_at": u.EmailVerifiedAt}); err != nil {
		return nil, err
	}
	if _, err := checkImportedHash("password hash", u.PasswordHash); err != nil {
		return nil, err
	}
	out := &models.User{
		ID: u.ID, Name: name, Email: email, EmailNormalized: models.NormalizeEmail(email),
		PasswordHash: u.PasswordHash, EmailVerifiedAt: importTimePtr(u.EmailVerifiedAt),
	}
	if !u.CreatedAt.IsZero() {
		out.CreatedAt = importTime(u.CreatedAt)
	}
	if !u.UpdatedAt.IsZero() {
		out.UpdatedAt = importTime(u.UpdatedAt)
	}
	return out, nil
}

// Import inserts users with their password hashes as given (see
// ImportUser), in batches of opts.BatchSize rows, each batch one
// transaction that also writes one user.imported activity row per user it
// inserts. A row whose id, or, without an id, whose email (compared
// normalised) is already stored, or was earlier in rows, is not
// written: it is unchanged when the stored user has the same name, email,
// password hash, verification time and (when given) creation time, and
// skipped otherwise; a row with an id whose email belongs to another user
// is skipped. Existing rows are never updated, so a second run changes
// nothing. With opts.DryRun it classifies the rows and writes nothing.
//
// Every row is validated before the first write: an invalid row returns
// ErrInvalidInput naming its index and field, and nothing is written.
// Batches before a failing one stay committed; running the import again
// completes it.
func (r *Users) Import(ctx context.Context, rows []ImportUser, opts ImportOptions) (ImportResult, error) {
	const op = "import users"
	users := make([]*models.User, len(rows))
	for i, in := range rows {
		u, err := in.row()
		if err != nil {
			return ImportResult{}, fmt.Errorf("%s: row %d: %w", op, i, err)
		}
		users[i] = u
	}
	st := &userImport{byID: map[models.UUID]*models.User{}, byEmail: map[string]*models.User{}}
	var res ImportResult
	err := importBatches(ctx, r.base, len(users), opts, func(db *gorm.DB, now time.Time, lo, hi int) error {
		return st.batch(db, now, users[lo:hi], lo, opts.DryRun, &res)
	})
	if err != nil {
		return res, Translate(op, err)
	}
	return res, nil
}

// importBatches runs batch over [lo, hi) ranges of n rows: in a
// transaction each, or, for a dry run, as plain reads.
func importBatches(ctx context.Context, b base, n int, opts ImportOptions, batch func(db *gorm.DB, now time.Time, lo, hi int) error) error {
	size := opts.BatchSize
	if size <= 0 {
		size = DefaultImportBatchSize
	}
	for lo := 0; lo < n; lo += size {
		hi := min(lo+size, n)
		var err error
		if opts.DryRun {
			err = batch(b.conn(ctx), b.now(), lo, hi)
		} else {
			err = b.transaction(ctx, func(tx *gorm.DB, now time.Time) error { return batch(tx, now, lo, hi) })
		}
		if err != nil {
			return err
		}
		if opts.Progress != nil {
			opts.Progress(hi, n)
		}
	}
	return nil
}

// userImport is the state of one Users.Import: the users it created (or
// would create, in a dry run), so a later row with the same id or email
// meets them as stored rows.
type userImport struct {
	byID    map[models.UUID]*models.User
	byEmail map[string]*models.User
}

// batch classifies users (rows offset.. of the import) against the stored
// users and those created before, and inserts the new ones with their
// activity rows unless dry.
func (st *userImport) batch(db *gorm.DB, now time.Time, users []*models.User, offset int, dry bool, res *ImportResult) error {
	var ids []models.UUID
	var emails []string
	for _, u := range users {
		if u.ID != "" {
			ids = append(ids, u.ID)
		}
		emails = append(emails, u.EmailNormalized)
	}
	var stored []models.User
	q := db.Where("email_normalized IN ?", emails)
	if len(ids) > 0 {
		q = q.Or("id IN ?", ids)
	}
	if err := q.Find(&stored).Error; err != nil {
		return err
	}
	for i := range stored {
		u := &stored[i]
		st.byID[u.ID], st.byEmail[u.EmailNormalized] = u, u
	}
	var created []*models.User
	for i, u := range users {
		row := ImportRow{Index: offset + i, ID: u.ID}
		switch byID, byEmail := st.byID[u.ID], st.byEmail[u.EmailNormalized]; {
		case u.ID != "" && byID != nil:
			row.Outcome, row.Reason = compareUser(byID, u, "id")
		case byEmail != nil && u.ID != "":
			row.Outcome, row.Reason = ImportSkipped, fmt.Sprintf("email belongs to user %s", byEmail.ID)
		case byEmail != nil:
			row.ID = byEmail.ID
			row.Outcome, row.Reason = compareUser(byEmail, u, "email")
		default:
			n := *u
			if n.ID == "" {
				n.ID = models.NewUUID()
			}
			if n.CreatedAt.IsZero() {
				n.CreatedAt = now
			}
			if n.UpdatedAt.IsZero() {
				n.UpdatedAt = now
			}
			created = append(created, &n)
			st.byID[n.ID], st.byEmail[n.EmailNormalized] = &n, &n
			row.ID, row.Outcome = n.ID, ImportCreated
		}
		res.add(row)
	}
	if dry || len(created) == 0 {
		return nil
	}
	if err := db.CreateInBatches(created, 100).Error; err != nil {
		return err
	}
	acts := make([]models.Activity, 0, len(created))
	for _, u := range created {
		scheme, _ := checkImportedHash("password hash", u.PasswordHash)
		acts = append(acts, importActivity(db, now, &u.ID, models.EventUserImported, fmt.Sprintf(`{"hash":%q}`, scheme)))
	}
	return db.Session(&gorm.Session{NewDB: true}).CreateInBatches(&acts, 200).Error
}

// importActivity is the activity row of one imported row, with the
// request metadata of db's context (as record writes it).
func importActivity(db *gorm.DB, now time.Time, userID *models.UUID, event models.Event, metadata string) models.Activity {
	rm := models.RequestMetaFrom(db.Statement.Context)
	id := *userID
	return models.Activity{UserID: &id, Event: string(event), IPAddress: rm.IP, UserAgent: rm.UserAgent, Metadata: metadata, CreatedAt: now}
}

// compareUser reports whether the stored user holds the imported values
// (unchanged) or not (skipped, naming the fields that differ). by says how
// the row was matched.
func compareUser(stored, in *models.User, by string) (ImportOutcome, string) {
	var diff []string
	if stored.Name != in.Name {
		diff = append(diff, "name")
	}
	if stored.Email != in.Email {
		diff = append(diff, "email")
	}
	if stored.PasswordHash != in.PasswordHash {
		diff = append(diff, "password")
	}
	if !sameTime(stored.EmailVerifiedAt, in.EmailVerifiedAt) {
		diff = append(diff, "email_verified_at")
	}
	if !in.CreatedAt.IsZero() && !stored.CreatedAt.Equal(in.CreatedAt) {
		diff = append(diff, "created_at")
	}
	if len(diff) == 0 {
		return ImportUnchanged, ""
	}
	return ImportSkipped, fmt.Sprintf("a user with this %s exists with another %s", by, strings.Join(diff, ", "))
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

// Export calls fn with every user, in id order, as the ImportUser that
// Users.Import recreates it from (password hash included: treat the
// output as a secret). It reads exportPageSize users per query, so it
// holds no transaction open; users created meanwhile may or may not be
// included. An error from fn stops it and is returned as is; a nil fn is
// ErrInvalidInput, before any read.
func (r *Users) Export(ctx context.Context, fn func(ImportUser) error) error {
	if err := checkCallback("export", fn == nil); err != nil {
		return fmt.Errorf("export users: %w", err)
	}
	return exportRows(ctx, r.base, "export users", func(u *models.User) models.UUID { return u.ID }, func(u models.User) error {
		return fn(ImportUser{
			ID: u.ID, Name: u.Name, Email: u.Email, PasswordHash: u.PasswordHash,
			EmailVerifiedAt: importTimePtr(u.EmailVerifiedAt), CreatedAt: importTime(u.CreatedAt), UpdatedAt: importTime(u.UpdatedAt),
		})
	})
}

// exportRows pages through a table by id (keyset pagination: each page
// starts after the last id of the one before) and calls fn per row.
func exportRows[T any](ctx context.Context, b base, op string, id func(*T) models.UUID, fn func(T) error) error {
	var after models.UUID
	for {
		var page []T
		q := b.conn(ctx).Order("id").Limit(exportPageSize)
		if after != "" {
			q = q.Where("id > ?", after)
		}
		if err := q.Find(&page).Error; err != nil {
			return Translate(op, err)
		}
		for _, row := range page {
			if err := fn(row); err != nil {
				return err
			}
		}
		if len(page) < exportPageSize {
			return nil
		}
		after = id(&page[len(page)-1])
	}
}

// Validate checks an imported client as Clients.Import does: a canonical
// UUID id (required), the name, owner id, redirect URIs, grant types and
// scopes as Clients.Create checks them, and a secret hash (Argon2id or
// bcrypt) exactly when the client is confidential. It returns
// ErrInvalidInput naming the field.
func (c ImportClient) Validate() error {
	_, err := c.row()
	return err
}

func (c ImportClient) row() (*models.Client, error) {
	if c.ID == "" {
		return nil, fmt.Errorf("client id is required (it is the client_id its applications use): %w", ErrInvalidInput)
	}
	if err := validID("client id", c.ID); err != nil {
		return nil, err
	}
	if len(c.GrantTypes) == 0 {
		return nil, fmt.Errorf("grant types are empty: %w", ErrInvalidInput)
	}
	out, err := newClientRow(ClientInput{
		Name: c.Name, RedirectURIs: c.RedirectURIs, Confidential: c.Confidential, Scopes: c.Scopes,
		GrantTypes: c.GrantTypes, UserID: c.UserID, PersonalAccessClient: c.PersonalAccessClient,
		ProviderMetadata: c.ProviderMetadata,
	})
	if err != nil {
		return nil, err
	}
	switch {
	case c.Confidential && c.SecretHash == nil:
		return nil, fmt.Errorf("a confidential client needs its secret hash: %w", ErrInvalidInput)
	case !c.Confidential && c.SecretHash != nil:
		return nil, fmt.Errorf("a public client has no secret: %w", ErrInvalidInput)
	case c.SecretHash != nil:
		if _, err := checkImportedHash("secret hash", *c.SecretHash); err != nil {
			return nil, err
		}
		h := *c.SecretHash
		out.SecretHash = &h
	}
	if err := checkImportTimes(map[string]*time.Time{"created_at": &c.CreatedAt, "updated_at": &c.UpdatedAt}); err != nil {
		return nil, err
	}
	out.ID, out.Revoked = c.ID, c.Revoked
	if !c.CreatedAt.IsZero() {
		out.CreatedAt = importTime(c.CreatedAt)
	}
	if !c.UpdatedAt.IsZero() {
		out.UpdatedAt = importTime(c.UpdatedAt)
	}
	return out, nil
}

// Import inserts clients with their secret hashes as given (see
// ImportClient), in batches of opts.BatchSize rows, each batch one
// transaction that also writes one client.imported activity row per
// client it inserts. A client whose id is already stored (or was earlier
// in rows) is not written: it is unchanged when the stored client has the
// same values, skipped otherwise; a client whose owner does not exist is
// skipped (import the users first). Existing rows are never updated, so a
// second run changes nothing. With opts.DryRun it classifies the rows and
// writes nothing, counting opts.PendingUsers as existing owners.
//
// Every row is validated before the first write: an invalid row returns
// ErrInvalidInput naming its index and field, and nothing is written.
func (r *Clients) Import(ctx context.Context, rows []ImportClient, opts ImportOptions) (ImportResult, error) {
	const op = "import clients"
	clients := make([]*models.Client, len(rows))
	for i, in := range rows {
		c, err := in.row()
		if err != nil {
			return ImportResult{}, fmt.Errorf("%s: row %d: %w", op, i, err)
		}
		clients[i] = c
	}
	seen := map[models.UUID]*models.Client{}
	owners := map[models.UUID]bool{}
	for _, id := range opts.PendingUsers {
		owners[id] = true
	}
	var res ImportResult
	err := importBatches(ctx, r.base, len(clients), opts, func(db *gorm.DB, now time.Time, lo, hi int) error {
		batch := clients[lo:hi]
		var ids, ownerIDs []models.UUID
		for _, c := range batch {
			ids = append(ids, c.ID)
			if c.UserID != nil && !owners[*c.UserID] {
				ownerIDs = append(ownerIDs, *c.UserID)
			}
		}
		var stored []models.Client
		if err := db.Where("id IN ?", ids).Find(&stored).Error; err != nil {
			return err
		}
		for i := range stored {
			seen[stored[i].ID] = &stored[i]
		}
		if len(ownerIDs) > 0 {
			var found []models.UUID
			if err := db.Model(&models.User{}).Where("id IN ?", ownerIDs).Pluck("id", &found).Error; err != nil {
				return err
			}
			for _, id := range found {
				owners[id] = true
			}
		}
		var created []*models.Client
		for i, c := range batch {
			row := ImportRow{Index: lo + i, ID: c.ID}
			switch {
			case seen[c.ID] != nil:
				row.Outcome, row.Reason = compareClient(seen[c.ID], c)
			case c.UserID != nil && !owners[*c.UserID]:
				row.Outcome, row.Reason = ImportSkipped, fmt.Sprintf("owner user %s does not exist; import the users first", *c.UserID)
			default:
				n := *c
				if n.CreatedAt.IsZero() {
					n.CreatedAt = now
				}
				if n.UpdatedAt.IsZero() {
					n.UpdatedAt = now
				}
				created = append(created, &n)
				seen[n.ID] = &n
				row.Outcome = ImportCreated
			}
			res.add(row)
		}
		if opts.DryRun || len(created) == 0 {
			return nil
		}
		if err := db.CreateInBatches(created, 100).Error; err != nil {
			return err
		}
		acts := make([]models.Activity, 0, len(created))
		for _, c := range created {
			a := importActivity(db, now, &c.ID, models.EventClientImported, fmt.Sprintf(`{"client_id":%q}`, c.ID))
			a.UserID = c.UserID
			acts = append(acts, a)
		}
		return db.Session(&gorm.Session{NewDB: true}).CreateInBatches(&acts, 200).Error
	})
	if err != nil {
		return res, Translate(op, err)
	}
	return res, nil
}

// compareClient reports whether the stored client holds the imported
// values (unchanged) or not (skipped, naming the fields that differ).
func compareClient(stored, in *models.Client) (ImportOutcome, string) {
	var diff []string
	add := func(field string, same bool) {
		if !same {
			diff = append(diff, field)
		}
	}
	add("name", stored.Name == in.Name)
	add("user_id", (stored.UserID == nil && in.UserID == nil) || (stored.UserID != nil && in.UserID != nil && *stored.UserID == *in.UserID))
	add("secret", (stored.SecretHash == nil && in.SecretHash == nil) || (stored.SecretHash != nil && in.SecretHash != nil && *stored.SecretHash == *in.SecretHash))
	add("redirect_uris", slices.Equal(stored.RedirectURIs, in.RedirectURIs))
	add("grant_types", slices.Equal(stored.GrantTypes, in.GrantTypes))
	add("scopes", slices.Equal(stored.Scopes, in.Scopes))
	add("confidential", stored.Confidential == in.Confidential)
	add("personal_access_client", stored.PersonalAccessClient == in.PersonalAccessClient)
	add("revoked", stored.Revoked == in.Revoked)
	add("provider metadata", reflect.DeepEqual(providerMetadata(stored), providerMetadata(in)))
	add("created_at", in.CreatedAt.IsZero() || stored.CreatedAt.Equal(in.CreatedAt))
	if len(diff) == 0 {
		return ImportUnchanged, ""
	}
	return ImportSkipped, "a client with this id exists with another " + strings.Join(diff, ", ")
}

// Export calls fn with every client, in id order, as the ImportClient that
// Clients.Import recreates it from: its secret as the stored hash, never a
// plaintext (there is none to export). It pages as Users.Export does. An
// error from fn stops it and is returned as is; a nil fn is
// ErrInvalidInput, before any read.
func (r *Clients) Export(ctx context.Context, fn func(ImportClient) error) error {
	if err := checkCallback("export", fn == nil); err != nil {
		return fmt.Errorf("export clients: %w", err)
	}
	return exportRows(ctx, r.base, "export clients", func(c *models.Client) models.UUID { return c.ID }, func(c models.Client) error {
		var secret *string
		if c.SecretHash != nil {
			s := *c.SecretHash
			secret = &s
		}
		var owner *models.UUID
		if c.UserID != nil {
			o := *c.UserID
			owner = &o
		}
		return fn(ImportClient{
			ID: c.ID, UserID: owner, Name: c.Name, SecretHash: secret,
			RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes, Scopes: c.Scopes,
			Confidential: c.Confidential, PersonalAccessClient: c.PersonalAccessClient, Revoked: c.Revoked,
			ProviderMetadata: providerMetadata(&c),
			CreatedAt:        importTime(c.CreatedAt), UpdatedAt: importTime(c.UpdatedAt),
		})
	})
}
