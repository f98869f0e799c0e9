#!/usr/bin/env node
// KQL oracle for aisigma: checks queries with Microsoft's Kusto.Language parser and semantic
// analyzer (npm @kusto/language-service-next, a JavaScript build of Kusto.Language).
//
// Usage: node kql_check.js [--unknown-table NAME] SCHEMA.json < queries.jsonl
//
// SCHEMA.json: {"TableName_CL": {"ColumnName": "string|long|int|real|bool|datetime|dynamic|guid|timespan"}}
// stdin:       one JSON object per line: {"id": "...", "query": "..."}
// stdout:      one JSON object per query: {"id", "errors": [{"code", "message", "start", "length"}]}
//              plus "unknown": {...} when the analyzer gave up (KS245, syntax depth limit), and
//              "warnings": [...] when it reported warnings (informational only), and
//              "regexes": [...], the pattern of each `matches regex` (null if not a literal).
// stderr:      a summary.
// Exit code:   0 no query has errors, 1 some query has errors, 2 bad usage or input.
'use strict';

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const SCALAR_TYPES = ['string', 'long', 'int', 'real', 'bool', 'datetime', 'dynamic', 'guid', 'timespan'];
// The analyzer stops (without semantic analysis) on deeply nested syntax: not a verdict on the query.
const UNKNOWN_CODES = new Set(['KS245']);

function fail(message) {
    process.stderr.write(`kql_check: ${message}\n`);
    process.exit(2);
}

function loadKusto() {
    // The package directory can be overridden (the conformance script installs it in a cache).
    const base = process.env.KQL_ORACLE_NODE_MODULES || path.join(__dirname, 'node_modules');
    const pkg = path.join(base, '@kusto', 'language-service-next');
    try {
        // Bridge.NET's runtime must be global before the Kusto.Language module is loaded.
        global.Bridge = require(path.join(pkg, 'bridge.js'));
        require(path.join(pkg, 'Kusto.Language.Bridge.js'));
    } catch (e) {
        fail(`cannot load @kusto/language-service-next from ${base} (run npm ci): ${e.message}`);
    }
    let version = '?';
    try { version = require(path.join(pkg, 'package.json')).version; } catch (e) { /* informational */ }
    return { K: global.Kusto.Language, version };
}

function loadSchema(file) {
    let schema;
    try {
        schema = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
        fail(`cannot read schema ${file}: ${e.message}`);
    }
    if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
        fail(`schema ${file}: expected an object of tables`);
    }
    for (const [table, columns] of Object.entries(schema)) {
        if (columns === null || typeof columns !== 'object' || Array.isArray(columns)) {
            fail(`schema ${file}: table ${JSON.stringify(table)}: expected an object of columns`);
        }
        for (const [column, type] of Object.entries(columns)) {
            if (!SCALAR_TYPES.includes(type)) {
                fail(`schema ${file}: ${table}.${column}: unknown type ${JSON.stringify(type)} (expected one of ${SCALAR_TYPES.join(', ')})`);
            }
        }
    }
    return schema;
}

function buildGlobals(K, schema) {
    const S = K.Symbols;
    const tables = Object.entries(schema).map(([table, columns]) => {
        const cols = Object.entries(columns).map(([name, type]) => {
            const symbol = S.ScalarTypes.GetSymbol(type);
            if (!symbol) fail(`Kusto.Language does not know the type ${type}`);
            return new S.ColumnSymbol(name, symbol, null, null, null, null);
        });
        return new S.TableSymbol.$ctor4(table, cols);
    });
    const db = new S.DatabaseSymbol.ctor('aisigma', tables);
    return K.GlobalState.Default.WithDatabase(db);
}

// The pattern of every `matches regex` in the syntax tree (the literal's value, unescaped by
// Kusto.Language), for the regex engine check in kql_oracle.sh.
function regexes(K, node, out) {
    if (!node || node.ChildCount === undefined) return out;
    if (node.Kind === K.Syntax.SyntaxKind.MatchesRegexExpression) {
        const value = node.Right.LiteralValue;
        out.push(typeof value === 'string' ? value : null);
    }
    for (let i = 0; i < node.ChildCount; i++) regexes(K, node.GetChild(i), out);
    return out;
}

function diagnostics(K, globals, query, unknownTable) {
    const code = K.KustoCode.ParseAndAnalyze(query, globals);
    const list = code.GetDiagnostics();
    const errors = [], warnings = [], unknown = [];
    for (let i = 0; i < list.Count; i++) {
        const d = list.getItem(i);
        const item = { code: d.Code, message: d.Message, start: d.Start, length: d.Length };
        if (unknownTable !== null && d.Code === 'KS204' && query.substr(d.Start, d.Length) === unknownTable) continue;
        if (UNKNOWN_CODES.has(d.Code)) unknown.push(item);
        else if (d.Severity === K.DiagnosticSeverity.Error) errors.push(item);
        else if (d.Severity === K.DiagnosticSeverity.Warning) warnings.push(item);
    }
    return { errors, warnings, unknown, regexes: regexes(K, code.Syntax, []) };
}

async function main() {
    const args = process.argv.slice(2);
    // --unknown-table NAME: the schema does not describe NAME (the table of rules outside the
    // AI schema, whose columns are the rules' own fields); KS204 on it is not an error, and the
    // analyzer does no column or type checks on it. Syntax is still checked.
    let unknownTable = null;
    if (args[0] === '--unknown-table') {
        unknownTable = args[1];
        args.splice(0, 2);
    }
    if (args.length !== 1 || args[0] === '-h' || args[0] === '--help') {
        process.stderr.write('usage: node kql_check.js [--unknown-table NAME] SCHEMA.json < queries.jsonl\n');
        process.exit(2);
    }
    const schema = loadSchema(args[0]);
    const { K, version } = loadKusto();
    const globals = buildGlobals(K, schema);

    let total = 0, accepted = 0, withErrors = 0, unknownCount = 0, withWarnings = 0, lineNo = 0;
    const failures = [];
    const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
    for await (const line of rl) {
        lineNo++;
        if (line.trim() === '') continue;
        let rec;
        try {
            rec = JSON.parse(line);
        } catch (e) {
            fail(`stdin line ${lineNo}: not JSON: ${e.message}`);
        }
        if (rec === null || typeof rec !== 'object' || typeof rec.query !== 'string') {
            fail(`stdin line ${lineNo}: expected {"id": ..., "query": "..."}`);
        }
        const id = rec.id === undefined ? `line ${lineNo}` : rec.id;
        const { errors, warnings, unknown, regexes: found } = diagnostics(K, globals, rec.query, unknownTable);
        const out = { id, errors };
        if (found.length) out.regexes = found;
        if (unknown.length) out.unknown = unknown;
        if (warnings.length) out.warnings = warnings;
        process.stdout.write(JSON.stringify(out) + '\n');
        total++;
        if (errors.length) {
            withErrors++;
            failures.push({ id, first: errors[0] });
        }
        if (unknown.length) unknownCount++;
        if (!errors.length && !unknown.length) accepted++;
        if (warnings.length) withWarnings++;
    }
    for (const f of failures) {
        process.stderr.write(`kql: ${f.id}: ${f.first.code} ${f.first.message} (at ${f.first.start})\n`);
    }
    process.stderr.write(`kql (Kusto.Language ${version}): ${total} queries, ` +
        `${accepted} accepted, ${withErrors} with errors, ` +
        `${unknownCount} unknown (analysis depth limit), ${withWarnings} with warnings\n`);
    process.exit(withErrors ? 1 : 0);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
