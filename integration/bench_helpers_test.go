package integration

import "gorm.io/gorm"

// gormSkipHooks seeds benchmark rows without model hooks (ids and digests
// set by the caller).
var gormSkipHooks = gorm.Session{SkipHooks: true}
