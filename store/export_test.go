package store

import (
	"context"
	"fmt"
	"strings"
)

// DumpTable returns every value of every row of table as text, so tests can
// check what really reached the database.
func DumpTable(ctx context.Context, db *DB, table string) (string, error) {
	rows, err := db.write.QueryContext(ctx, db.dialect.rebind("SELECT * FROM "+table))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		for i, v := range vals {
			if bs, ok := v.([]byte); ok {
				v = string(bs)
			}
			fmt.Fprintf(&b, "%s=%v ", cols[i], v)
		}
		b.WriteString("\n")
	}
	return b.String(), rows.Err()
}
