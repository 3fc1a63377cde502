package twin

import (
	bolt "go.etcd.io/bbolt"
)

// mappingBucket keeps each event source mapping's Enabled in the history
// file: a mapping disabled when the twin stops is disabled when it starts
// again, as on Lambda, where a mapping stays as it was last set.
var mappingBucket = []byte("event-source-mappings")

// mappingEnabled reports whether the mapping uuid was last left enabled;
// a mapping never set is.
func mappingEnabled(db *bolt.DB, uuid string) (bool, error) {
	enabled := true
	err := db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(mappingBucket); b != nil {
			enabled = string(b.Get([]byte(uuid))) != "false"
		}
		return nil
	})
	return enabled, err
}

// saveMappingEnabled keeps the mapping's Enabled for the next start.
func saveMappingEnabled(db *bolt.DB, uuid string, enabled bool) error {
	return db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(mappingBucket)
		if err != nil {
			return err
		}
		v := "true"
		if !enabled {
			v = "false"
		}
		return b.Put([]byte(uuid), []byte(v))
	})
}
