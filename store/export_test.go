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

// Schema describes the tables, columns and indexes of db in terms both
// databases share, one line each, so tests can check that the two
// migration sets build the same schema. goose's own table is left out.
func Schema(ctx context.Context, db *DB) ([]string, error) {
	var columns, indexes string
	switch db.dialect.(type) {
	case sqliteDialect:
		// An INTEGER PRIMARY KEY is a 64-bit rowid and never NULL.
		columns = `
			SELECT m.name, p.name,
				CASE WHEN p.pk > 0 AND p.type = 'INTEGER' THEN 'bigint'
					WHEN p.type = 'BLOB' THEN 'bytea' ELSE lower(p.type) END,
				p."notnull" OR p.pk > 0
			FROM sqlite_master m, pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite%' AND m.name <> 'goose_db_version'
			ORDER BY m.name, p.cid`
		indexes = `
			SELECT m.name, l.name, l."unique", l.partial,
				(SELECT group_concat(name, ',') FROM (SELECT name FROM pragma_index_info(l.name) ORDER BY seqno))
			FROM sqlite_master m, pragma_index_list(m.name) l
			WHERE m.type = 'table' AND m.name <> 'goose_db_version' AND l.origin = 'c'
			ORDER BY m.name, l.name`
	case pgDialect:
		columns = `
			SELECT table_name, column_name, data_type, is_nullable = 'NO'
			FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name <> 'goose_db_version'
			ORDER BY table_name, ordinal_position`
		indexes = `
			SELECT t.relname, i.relname, x.indisunique, x.indpred IS NOT NULL,
				(SELECT string_agg(a.attname, ',' ORDER BY k.n)
				 FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, n)
				 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum)
			FROM pg_index x
			JOIN pg_class i ON i.oid = x.indexrelid
			JOIN pg_class t ON t.oid = x.indrelid
			WHERE t.relnamespace = current_schema()::regnamespace AND NOT x.indisprimary
				AND t.relname <> 'goose_db_version'
			ORDER BY t.relname, i.relname`
	}
	var out []string
	rows, err := db.write.QueryContext(ctx, columns)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, column, typ string
		var notNull bool
		if err := rows.Scan(&table, &column, &typ, &notNull); err != nil {
			return nil, err
		}
		line := fmt.Sprintf("column %s.%s %s", table, column, typ)
		if notNull {
			line += " NOT NULL"
		}
		out = append(out, line)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = db.write.QueryContext(ctx, indexes)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var table, index, cols string
		var unique, partial bool
		if err := rows.Scan(&table, &index, &unique, &partial, &cols); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("index %s on %s (%s) unique=%t partial=%t", index, table, cols, unique, partial))
	}
	return out, rows.Err()
}
