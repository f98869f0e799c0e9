// Lucene 9 execution oracle: runs Elasticsearch-style `query_string` queries on small sets of
// JSON documents whose fields are mapped as keyword / double / ip / boolean.
//
// Protocol: one JSON object per line on stdin, one JSON object per line on stdout.
//   in : {"id": ..., "query": "LUCENE QUERY", "docs": [{"field": [v, ...], ...}, ...],
//         "types": {"field": "keyword|long|double|ip|boolean"}, "explain": false}
//   out: {"id": ..., "hits": [i, ...]}           (indexes of matching docs, ascending)
//        {"id": ..., "ok": true, "lucene": "..."} (no "docs": parse only)
//        {"id": ..., "error": "message"}         (parse or execution error)
// Every answer also carries "ms", the wall time spent on that line.
// With "explain": true the answer also carries "lucene", the parsed query's toString().
//
// Emulated Elasticsearch behaviour (QueryStringQueryParser on Lucene 9):
//   classic QueryParser, default operator OR, allowLeadingWildcard, splitOnWhitespace=false;
//   keyword fields match whole, case-sensitive terms (a quoted or bare value is one TermQuery);
//   `f:>5` `f:>=5` `f:<5` `f:<=5` are one-sided ranges; numeric fields (DoublePoint) take numeric
//   terms and ranges; ip fields (InetAddressPoint) take an address or a CIDR in quotes;
//   `_exists_:f` and `f:*` are exists queries (object paths included); `*:*` and `*` match all;
//   unfielded terms and `f.*:` patterns search every matching field, leniently;
//   a boolean query made only of MUST_NOT clauses also gets a match-all clause (at every level);
//   regexes longer than 1000 chars are refused (index.max_regex_length); regexes use RegExp.ALL
//   with a determinize limit of 10000; at most 4096 boolean clauses;
//   wildcard / regex / prefix / fuzzy queries on non-keyword fields are errors, as in ES.
// Written for aisigma's conformance tests; needs only the Lucene 9 jar (core, queryparser,
// analysis-common).

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.InetAddressPoint;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.NoMergePolicy;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.queryparser.classic.ParseException;
import org.apache.lucene.queryparser.classic.QueryParser;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.DisjunctionMaxQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.MatchNoDocsQuery;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.RegexpQuery;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.TermRangeQuery;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.WildcardQuery;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.util.automaton.RegExp;

public final class LuceneOracle {
    static final String FIELD_NAMES = "_field_names";
    static final String EXISTS = "_exists_";
    static final String DOC_INDEX = "_oracle_doc";
    /** Points live in their own field: Lucene 9 wants one field's structure equal in every doc. */
    static final String POINTS = "_oracle_point:";
    static final int MAX_CLAUSES = Integer.getInteger("lucene.oracle.maxClauses", 4096);
    static final int MAX_REGEX_LENGTH = Integer.getInteger("lucene.oracle.maxRegexLength", 1000);
    static final int DETERMINIZE_LIMIT = Integer.getInteger("lucene.oracle.determinizeLimit", 10000);

    enum Kind {
        KEYWORD("keyword"), DOUBLE("double"), IP("ip"), BOOLEAN("boolean");
        final String es;
        Kind(String es) { this.es = es; }

        static Kind of(String s) {
            switch (s) {
                case "keyword": case "string": case "text": return KEYWORD;
                case "long": case "double": case "int": case "integer": case "float": case "number": return DOUBLE;
                case "ip": return IP;
                case "boolean": case "bool": return BOOLEAN;
                default: throw new IllegalArgumentException("unknown field type [" + s + "]");
            }
        }
    }

    // ------------------------------------------------------------------ JSON

    /** A JSON number, kept with its source text (the keyword form of the value). */
    static final class Num {
        final String text;
        final double value;
        Num(String text) { this.text = text; this.value = Double.parseDouble(text); }
    }

    static final class JsonReader {
        private final String s;
        private int i;
        JsonReader(String s) { this.s = s; }

        static Object parse(String s) {
            JsonReader r = new JsonReader(s);
            Object v = r.value();
            r.ws();
            if (r.i != s.length()) throw r.err("trailing characters");
            return v;
        }

        private IllegalArgumentException err(String what) {
            return new IllegalArgumentException("bad JSON input at offset " + i + ": " + what);
        }

        private void ws() {
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++; else break;
            }
        }

        private Object value() {
            ws();
            if (i >= s.length()) throw err("unexpected end");
            char c = s.charAt(i);
            switch (c) {
                case '{': return object();
                case '[': return array();
                case '"': return string();
                case 't': return literal("true", Boolean.TRUE);
                case 'f': return literal("false", Boolean.FALSE);
                case 'n': return literal("null", null);
                default: return number();
            }
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) throw err("unknown literal");
            i += word.length();
            return v;
        }

        private Map<String, Object> object() {
            Map<String, Object> m = new LinkedHashMap<>();
            i++;
            ws();
            if (i < s.length() && s.charAt(i) == '}') { i++; return m; }
            while (true) {
                ws();
                if (i >= s.length() || s.charAt(i) != '"') throw err("expected a key");
                String k = string();
                ws();
                if (i >= s.length() || s.charAt(i) != ':') throw err("expected ':'");
                i++;
                m.put(k, value());
                ws();
                if (i >= s.length()) throw err("unexpected end in object");
                char c = s.charAt(i++);
                if (c == '}') return m;
                if (c != ',') throw err("expected ',' or '}'");
            }
        }

        private List<Object> array() {
            List<Object> a = new ArrayList<>();
            i++;
            ws();
            if (i < s.length() && s.charAt(i) == ']') { i++; return a; }
            while (true) {
                a.add(value());
                ws();
                if (i >= s.length()) throw err("unexpected end in array");
                char c = s.charAt(i++);
                if (c == ']') return a;
                if (c != ',') throw err("expected ',' or ']'");
            }
        }

        private String string() {
            StringBuilder b = new StringBuilder();
            i++;
            while (true) {
                if (i >= s.length()) throw err("unterminated string");
                char c = s.charAt(i++);
                if (c == '"') return b.toString();
                if (c != '\\') { b.append(c); continue; }
                if (i >= s.length()) throw err("unterminated escape");
                char e = s.charAt(i++);
                switch (e) {
                    case '"': b.append('"'); break;
                    case '\\': b.append('\\'); break;
                    case '/': b.append('/'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'n': b.append('\n'); break;
                    case 'r': b.append('\r'); break;
                    case 't': b.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) throw err("short \\u escape");
                        try {
                            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException x) {
                            throw err("bad \\u escape");
                        }
                        i += 4;
                        break;
                    default: throw err("bad escape");
                }
            }
        }

        private Num number() {
            int start = i;
            if (i < s.length() && s.charAt(i) == '-') i++;
            while (i < s.length() && "0123456789+-.eE".indexOf(s.charAt(i)) >= 0) i++;
            String t = s.substring(start, i);
            if (!JSON_NUMBER.matcher(t).matches()) throw err("bad number '" + t + "'");
            return new Num(t);
        }
    }

    static final Pattern JSON_NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][-+]?[0-9]+)?");
    /** Numeric strings a numeric field accepts as values (Elasticsearch coerces them). */
    static final Pattern NUMERIC_TEXT = Pattern.compile("[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?");

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            if (c == '"') b.append("\\\"");
            else if (c == '\\') b.append("\\\\");
            else if (c == '\n') b.append("\\n");
            else if (c >= 0x20 && c < 0x7f) b.append(c);
            else b.append(String.format("\\u%04x", (int) c));
        }
        b.append('"');
    }

    static void writeJson(StringBuilder b, Object v) {
        if (v == null) b.append("null");
        else if (v instanceof String) quote(b, (String) v);
        else if (v instanceof Num) b.append(((Num) v).text);
        else if (v instanceof Number || v instanceof Boolean) b.append(v);
        else if (v instanceof List) {
            b.append('[');
            boolean first = true;
            for (Object o : (List<?>) v) {
                if (!first) b.append(',');
                first = false;
                writeJson(b, o);
            }
            b.append(']');
        } else if (v instanceof Map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) b.append(',');
                first = false;
                quote(b, String.valueOf(e.getKey()));
                b.append(':');
                writeJson(b, e.getValue());
            }
            b.append('}');
        } else quote(b, v.toString());
    }

    // ------------------------------------------------------------------ IP addresses

    /** Strict IPv4 / IPv6 literal (no host names, no zone ids, no leading zeros in IPv4). */
    static InetAddress parseIp(String s) {
        byte[] b = s.indexOf(':') >= 0 ? ipv6(s) : ipv4(s);
        if (b == null) throw new IllegalArgumentException("'" + s + "' is not an IP string literal.");
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    static byte[] ipv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) return null;
        byte[] out = new byte[4];
        for (int k = 0; k < 4; k++) {
            String p = parts[k];
            if (p.isEmpty() || p.length() > 3 || (p.length() > 1 && p.charAt(0) == '0')) return null;
            for (int j = 0; j < p.length(); j++) if (p.charAt(j) < '0' || p.charAt(j) > '9') return null;
            int v = Integer.parseInt(p);
            if (v > 255) return null;
            out[k] = (byte) v;
        }
        return out;
    }

    /** Units (16-bit groups) of one side of an IPv6 literal; an IPv4 tail counts as two. */
    static List<Integer> ipv6Units(String s, boolean allowV4Tail) {
        List<Integer> units = new ArrayList<>();
        if (s.isEmpty()) return units;
        String[] parts = s.split(":", -1);
        for (int k = 0; k < parts.length; k++) {
            String p = parts[k];
            if (k == parts.length - 1 && allowV4Tail && p.indexOf('.') >= 0) {
                byte[] v4 = ipv4(p);
                if (v4 == null) return null;
                units.add(((v4[0] & 0xff) << 8) | (v4[1] & 0xff));
                units.add(((v4[2] & 0xff) << 8) | (v4[3] & 0xff));
                continue;
            }
            if (p.isEmpty() || p.length() > 4) return null;
            int v = 0;
            for (int j = 0; j < p.length(); j++) {
                int d = Character.digit(p.charAt(j), 16);
                if (d < 0 || p.charAt(j) > 'f') return null;
                v = v * 16 + d;
            }
            units.add(v);
        }
        return units;
    }

    static byte[] ipv6(String s) {
        List<Integer> units;
        int dbl = s.indexOf("::");
        if (dbl >= 0) {
            if (s.indexOf("::", dbl + 1) >= 0) return null;
            List<Integer> head = ipv6Units(s.substring(0, dbl), false);
            List<Integer> tail = ipv6Units(s.substring(dbl + 2), true);
            if (head == null || tail == null || head.size() + tail.size() > 7) return null;
            units = new ArrayList<>(head);
            while (units.size() + tail.size() < 8) units.add(0);
            units.addAll(tail);
        } else {
            units = ipv6Units(s, true);
            if (units == null || units.size() != 8) return null;
        }
        byte[] out = new byte[16];
        for (int k = 0; k < 8; k++) {
            out[2 * k] = (byte) (units.get(k) >> 8);
            out[2 * k + 1] = (byte) (int) units.get(k);
        }
        return out;
    }

    // ------------------------------------------------------------------ query parser

    interface PerField {
        Query build(String field) throws ParseException;
    }

    /** Elasticsearch's QueryStringQueryParser, reduced to keyword / double / ip / boolean fields. */
    static final class EsQueryParser extends QueryParser {
        final Map<String, Kind> kinds;
        final TreeSet<String> fields;

        EsQueryParser(Map<String, Kind> kinds, TreeSet<String> fields) {
            super("*", new KeywordAnalyzer());
            this.kinds = kinds;
            this.fields = fields;
            setDefaultOperator(QueryParser.Operator.OR);
            setAllowLeadingWildcard(true);
            setSplitOnWhitespace(false);
            setDeterminizeWorkLimit(DETERMINIZE_LIMIT);
        }

        Kind kind(String field) { return kinds.getOrDefault(field, Kind.KEYWORD); }

        @Override
        public Query parse(String query) throws ParseException {
            if (query.trim().isEmpty()) return new MatchNoDocsQuery("no terms");
            Query q = super.parse(query);
            return q == null ? new MatchNoDocsQuery("null query") : fixNegative(q);
        }

        /** One field, a field pattern (`a.*`), or every field (`*`, the default field). */
        Query perField(String field, PerField f) throws ParseException {
            if (field == null || field.indexOf('*') < 0) return f.build(field);
            List<Query> qs = new ArrayList<>();
            for (String name : fields) {
                if (!globMatch(field, name)) continue;
                try {
                    qs.add(f.build(name));
                } catch (ParseException | RuntimeException e) {
                    // lenient, as Elasticsearch is for field patterns: the field is skipped
                }
            }
            if (qs.isEmpty()) return new MatchNoDocsQuery("no field matches " + field);
            return qs.size() == 1 ? qs.get(0) : new DisjunctionMaxQuery(qs, 0f);
        }

        @Override
        protected Query getFieldQuery(String field, String text, boolean quoted) throws ParseException {
            if (EXISTS.equals(field)) return exists(text);
            if (!quoted && field != null && text.length() > 1) {
                if (text.charAt(0) == '>') {
                    if (text.length() > 2 && text.charAt(1) == '=') return getRangeQuery(field, text.substring(2), null, true, true);
                    return getRangeQuery(field, text.substring(1), null, false, true);
                }
                if (text.charAt(0) == '<') {
                    if (text.length() > 2 && text.charAt(1) == '=') return getRangeQuery(field, null, text.substring(2), true, true);
                    return getRangeQuery(field, null, text.substring(1), true, false);
                }
            }
            return perField(field, f -> termQuery(f, text));
        }

        Query termQuery(String f, String text) {
            switch (kind(f)) {
                case DOUBLE:
                    return DoublePoint.newExactQuery(POINTS + f, parseNumber(text));
                case BOOLEAN:
                    return new TermQuery(new Term(f, booleanTerm(text)));
                case IP: {
                    int slash = text.indexOf('/');
                    if (slash < 0) return InetAddressPoint.newExactQuery(POINTS + f, parseIp(text));
                    String bits = text.substring(slash + 1);
                    if (!bits.matches("[0-9]{1,3}")) throw new IllegalArgumentException("Expected [ip/prefix] but was [" + text + "]");
                    InetAddress a = parseIp(text.substring(0, slash));
                    int len = Integer.parseInt(bits);
                    if (len > a.getAddress().length * 8) throw new IllegalArgumentException("Illegal prefix length [" + len + "] in [" + text + "]");
                    return InetAddressPoint.newPrefixQuery(POINTS + f, a, len);
                }
                default:
                    return new TermQuery(new Term(f, text));
            }
        }

        static double parseNumber(String text) {
            try {
                return Double.parseDouble(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("failed to create query: For input string: \"" + text + "\"");
            }
        }

        static String booleanTerm(String text) {
            switch (text) {
                case "true": return "true";
                case "false": case "": return "false";
                default: throw new IllegalArgumentException("Can't parse boolean value [" + text + "], expected [true] or [false]");
            }
        }

        @Override
        protected Query getRangeQuery(String field, String part1, String part2, boolean startInclusive, boolean endInclusive)
                throws ParseException {
            String lo = "*".equals(part1) ? null : part1;
            String hi = "*".equals(part2) ? null : part2;
            return perField(field, f -> rangeQuery(f, lo, hi, startInclusive, endInclusive));
        }

        Query rangeQuery(String f, String lo, String hi, boolean loIncl, boolean hiIncl) {
            switch (kind(f)) {
                case DOUBLE: {
                    double a = lo == null ? Double.NEGATIVE_INFINITY : parseNumber(lo);
                    double b = hi == null ? Double.POSITIVE_INFINITY : parseNumber(hi);
                    if (lo != null && !loIncl) a = Math.nextUp(a);
                    if (hi != null && !hiIncl) b = Math.nextDown(b);
                    return DoublePoint.newRangeQuery(POINTS + f, a, b);
                }
                case IP: {
                    InetAddress a = lo == null ? InetAddressPoint.MIN_VALUE : parseIp(lo);
                    InetAddress b = hi == null ? InetAddressPoint.MAX_VALUE : parseIp(hi);
                    if (lo != null && !loIncl) {
                        if (a.equals(InetAddressPoint.MAX_VALUE)) return new MatchNoDocsQuery("empty ip range");
                        a = InetAddressPoint.nextUp(a);
                    }
                    if (hi != null && !hiIncl) {
                        if (b.equals(InetAddressPoint.MIN_VALUE)) return new MatchNoDocsQuery("empty ip range");
                        b = InetAddressPoint.nextDown(b);
                    }
                    return InetAddressPoint.newRangeQuery(POINTS + f, a, b);
                }
                case BOOLEAN:
                    return TermRangeQuery.newStringRange(f, lo == null ? null : booleanTerm(lo), hi == null ? null : booleanTerm(hi), loIncl, hiIncl);
                default:
                    return TermRangeQuery.newStringRange(f, lo, hi, loIncl, hiIncl);
            }
        }

        IllegalArgumentException notKeyword(String what, String f) {
            return new IllegalArgumentException("Can only use " + what + " queries on keyword and text fields - not on [" + f
                    + "] which is of type [" + kind(f).es + "]");
        }

        @Override
        protected Query getWildcardQuery(String field, String term) throws ParseException {
            if ("*".equals(term)) {
                if ("*".equals(field)) return new MatchAllDocsQuery();
                return exists(field);
            }
            return perField(field, f -> {
                if (kind(f) != Kind.KEYWORD) throw notKeyword("wildcard", f);
                return new WildcardQuery(new Term(f, term), DETERMINIZE_LIMIT);
            });
        }

        @Override
        protected Query getPrefixQuery(String field, String term) throws ParseException {
            return perField(field, f -> {
                if (kind(f) != Kind.KEYWORD) throw notKeyword("prefix", f);
                return new PrefixQuery(new Term(f, term));
            });
        }

        @Override
        protected Query getRegexpQuery(String field, String term) throws ParseException {
            if (term.length() > MAX_REGEX_LENGTH) {
                throw new IllegalArgumentException("The length of regex [" + term.length() + "] used in the [query_string] has exceeded "
                        + "the allowed maximum of [" + MAX_REGEX_LENGTH + "]. This maximum can be set by changing the "
                        + "[index.max_regex_length] index level setting.");
            }
            return perField(field, f -> {
                if (kind(f) != Kind.KEYWORD) throw notKeyword("regexp", f);
                return new RegexpQuery(new Term(f, term), RegExp.ALL, 0, DETERMINIZE_LIMIT);
            });
        }

        /** Elasticsearch's fuzziness: a bare `~` is AUTO (0 edits below 3 code points, 1 below 6, else 2). */
        @Override
        protected float getFuzzyDistance(org.apache.lucene.queryparser.classic.Token fuzzyToken, String termStr) {
            if (fuzzyToken.image.length() == 1) {
                int n = termStr.codePointCount(0, termStr.length());
                return n < 3 ? 0f : n < 6 ? 1f : 2f;
            }
            float f = Float.parseFloat(fuzzyToken.image.substring(1));
            if (f != (int) f) throw new IllegalArgumentException("Invalid fuzziness value: " + fuzzyToken.image.substring(1));
            return Math.min(f, 2f);
        }

        @Override
        protected Query getFuzzyQuery(String field, String term, float minSimilarity) throws ParseException {
            return perField(field, f -> {
                if (kind(f) != Kind.KEYWORD) throw notKeyword("fuzzy", f);
                return super.getFuzzyQuery(f, term, minSimilarity);
            });
        }

        @Override
        protected Query getBooleanQuery(List<BooleanClause> clauses) throws ParseException {
            Query q = super.getBooleanQuery(clauses);
            return q == null ? null : fixNegative(q);
        }

        /** `_exists_:name`: a value under `name`, or under `name.*` when it is an object path. */
        static Query exists(String name) {
            if (name.indexOf('*') < 0) return new TermQuery(new Term(FIELD_NAMES, name));
            StringBuilder p = new StringBuilder();
            for (int k = 0; k < name.length(); k++) {
                char c = name.charAt(k);
                if (c == '?' || c == '\\') p.append('\\');
                p.append(c);
            }
            return new WildcardQuery(new Term(FIELD_NAMES, p.toString()));
        }
    }

    /** Elasticsearch's Queries.fixNegativeQueryIfNeeded. */
    static Query fixNegative(Query q) {
        if (!(q instanceof BooleanQuery)) return q;
        BooleanQuery bq = (BooleanQuery) q;
        if (bq.clauses().isEmpty()) return q;
        for (BooleanClause c : bq.clauses()) if (c.getOccur() != BooleanClause.Occur.MUST_NOT) return q;
        BooleanQuery.Builder b = new BooleanQuery.Builder();
        for (BooleanClause c : bq.clauses()) b.add(c);
        b.setMinimumNumberShouldMatch(bq.getMinimumNumberShouldMatch());
        b.add(new MatchAllDocsQuery(), BooleanClause.Occur.FILTER);
        return b.build();
    }

    /** Elasticsearch's Regex.simpleMatch: only `*` is special. */
    static boolean globMatch(String pattern, String s) {
        if ("*".equals(pattern)) return true;
        String[] parts = pattern.split("\\*", -1);
        int pos = 0;
        for (int k = 0; k < parts.length; k++) {
            String part = parts[k];
            if (k == 0) {
                if (!s.startsWith(part)) return false;
                pos = part.length();
            } else if (k == parts.length - 1) {
                return s.length() - pos >= part.length() && s.endsWith(part);
            } else {
                int at = s.indexOf(part, pos);
                if (at < 0) return false;
                pos = at + part.length();
            }
        }
        return pos == s.length();
    }

    // ------------------------------------------------------------------ indexing and search

    static void collectValues(Object v, List<Object> out) {
        if (v == null) return;
        if (v instanceof List) {
            for (Object o : (List<?>) v) collectValues(o, out);
        } else if (v instanceof Map) {
            throw new IllegalArgumentException("document values must be scalars or lists (flatten objects first)");
        } else {
            out.add(v);
        }
    }

    static String keywordText(Object v) {
        if (v instanceof Num) return ((Num) v).text;
        if (v instanceof Boolean) return v.toString();
        return (String) v;
    }

    static Double numberValue(Object v) {
        if (v instanceof Num) return ((Num) v).value;
        if (v instanceof String) {
            String t = ((String) v).trim();
            if (NUMERIC_TEXT.matcher(t).matches()) {
                double d = Double.parseDouble(t);
                if (!Double.isInfinite(d)) return d;
            }
        }
        return null;
    }

    static Document toDocument(int index, Map<String, Object> doc, Map<String, Kind> kinds) {
        Document d = new Document();
        d.add(new StoredField(DOC_INDEX, index));
        Set<String> present = new HashSet<>();
        for (Map.Entry<String, Object> e : doc.entrySet()) {
            String f = e.getKey();
            if (f.isEmpty() || f.equals(FIELD_NAMES) || f.startsWith("_oracle_")) {
                throw new IllegalArgumentException("field name [" + f + "] is reserved");
            }
            List<Object> vals = new ArrayList<>();
            collectValues(e.getValue(), vals);
            Kind k = kinds.getOrDefault(f, Kind.KEYWORD);
            for (Object v : vals) {
                String text = keywordText(v);
                d.add(new StringField(f, text, Field.Store.NO));
                if (k == Kind.DOUBLE) {
                    Double n = numberValue(v);
                    if (n != null) d.add(new DoublePoint(POINTS + f, n));
                } else if (k == Kind.IP) {
                    try {
                        d.add(new InetAddressPoint(POINTS + f, parseIp(text)));
                    } catch (IllegalArgumentException ignored) {
                        // Elasticsearch would refuse the document; here the value just never matches
                    }
                }
            }
            if (!vals.isEmpty()) {
                // Elasticsearch's exists query also accepts object paths: index every prefix.
                present.add(f);
                for (int dot = f.indexOf('.'); dot > 0; dot = f.indexOf('.', dot + 1)) present.add(f.substring(0, dot));
            }
        }
        for (String f : new TreeSet<>(present)) d.add(new StringField(FIELD_NAMES, f, Field.Store.NO));
        return d;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> handle(Map<String, Object> req) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", req.get("id"));
        Object qv = req.get("query");
        if (!(qv instanceof String)) throw new IllegalArgumentException("\"query\" must be a string");
        String query = (String) qv;
        List<Object> docs = null;
        if (req.get("docs") != null) {
            if (!(req.get("docs") instanceof List)) throw new IllegalArgumentException("\"docs\" must be a list");
            docs = (List<Object>) req.get("docs");
        }
        Map<String, Kind> kinds = new TreeMap<>();
        if (req.get("types") instanceof Map) {
            for (Map.Entry<String, Object> e : ((Map<String, Object>) req.get("types")).entrySet()) {
                kinds.put(e.getKey(), Kind.of(String.valueOf(e.getValue())));
            }
        }
        TreeSet<String> fields = new TreeSet<>(kinds.keySet());
        if (docs != null) {
            for (Object o : docs) {
                if (!(o instanceof Map)) throw new IllegalArgumentException("each doc must be an object");
                Map<String, Object> m = (Map<String, Object>) o;
                for (Map.Entry<String, Object> e : m.entrySet()) {
                    fields.add(e.getKey());
                    if (kinds.containsKey(e.getKey())) continue;
                    // untyped fields: a JSON number makes the field numeric (numbers win), a JSON boolean boolean
                    List<Object> vals = new ArrayList<>();
                    collectValues(e.getValue(), vals);
                    for (Object v : vals) {
                        if (v instanceof Num) kinds.put(e.getKey(), Kind.DOUBLE);
                        else if (v instanceof Boolean) kinds.putIfAbsent(e.getKey(), Kind.BOOLEAN);
                    }
                }
            }
        }
        Query q = new EsQueryParser(kinds, fields).parse(query);
        if (docs == null || Boolean.TRUE.equals(req.get("explain"))) out.put("lucene", q.toString());
        if (docs == null) {
            out.put("ok", Boolean.TRUE);
            return out;
        }
        List<Object> hits = new ArrayList<>();
        if (!docs.isEmpty()) {
            try (ByteBuffersDirectory dir = new ByteBuffersDirectory()) {
                IndexWriterConfig cfg = new IndexWriterConfig(new KeywordAnalyzer());
                cfg.setOpenMode(IndexWriterConfig.OpenMode.CREATE);
                cfg.setUseCompoundFile(false);
                cfg.setMergePolicy(NoMergePolicy.INSTANCE);
                cfg.setCommitOnClose(false);
                try (IndexWriter w = new IndexWriter(dir, cfg)) {
                    for (int k = 0; k < docs.size(); k++) {
                        try {
                            w.addDocument(toDocument(k, (Map<String, Object>) docs.get(k), kinds));
                        } catch (IllegalArgumentException e) {
                            throw new IllegalArgumentException("document " + k + " cannot be indexed: " + e.getMessage(), e);
                        }
                    }
                    // A near-real-time reader: no commit needed.
                    try (DirectoryReader r = DirectoryReader.open(w)) {
                        IndexSearcher s = new IndexSearcher(r);
                        s.setQueryCache(null);
                        TopDocs td = s.search(q, docs.size());
                        StoredFields sf = s.storedFields();
                        TreeSet<Integer> idx = new TreeSet<>();
                        for (ScoreDoc sd : td.scoreDocs) idx.add(sf.document(sd.doc).getField(DOC_INDEX).numericValue().intValue());
                        hits.addAll(idx);
                    }
                    w.rollback();
                }
            }
        }
        out.put("hits", hits);
        return out;
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        if (m != null && m.indexOf("\nWas expecting") > 0) m = m.substring(0, m.indexOf("\nWas expecting"));
        String name = e.getClass().getSimpleName();
        return m == null ? name : name + ": " + m;
    }

    public static void main(String[] args) throws IOException {
        IndexSearcher.setMaxClauseCount(MAX_CLAUSES);
        if (args.length > 0 && args[0].equals("--info")) {
            // Proves the jar is complete: version, and the codec found through SPI (META-INF/services).
            System.out.println("lucene " + org.apache.lucene.util.Version.LATEST + ", default codec "
                    + org.apache.lucene.codecs.Codec.getDefault().getName() + ", codecs "
                    + org.apache.lucene.codecs.Codec.availableCodecs() + ", postings "
                    + org.apache.lucene.codecs.PostingsFormat.availablePostingsFormats());
            return;
        }
        int threads = Integer.getInteger("lucene.oracle.threads", Runtime.getRuntime().availableProcessors());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        BufferedWriter out = new BufferedWriter(new OutputStreamWriter(System.out, StandardCharsets.UTF_8));
        // Lines are answered in input order; up to `threads` lines run at once. Whenever no more
        // input is ready, every pending answer is written, so interactive use works too.
        ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, threads), r -> {
            Thread t = new Thread(null, r, "oracle", 64L << 20); // deep queries recurse
            t.setDaemon(true);
            return t;
        });
        ArrayDeque<Future<String>> pending = new ArrayDeque<>();
        try {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.trim().isEmpty()) continue;
                final String l = line;
                pending.add(pool.submit(() -> answer(l)));
                while (!pending.isEmpty() && (pending.size() > 4 * threads || pending.peek().isDone() || !in.ready())) {
                    write(out, pending.poll());
                }
            }
            while (!pending.isEmpty()) write(out, pending.poll());
        } finally {
            pool.shutdownNow();
        }
    }

    static void write(BufferedWriter out, Future<String> f) throws IOException {
        try {
            out.write(f.get());
        } catch (InterruptedException | ExecutionException e) {
            throw new IOException(e);
        }
        out.write('\n');
        out.flush();
    }

    static String answer(String line) {
        Object id = null;
        Map<String, Object> res;
        long t0 = System.nanoTime();
        try {
            Object req = JsonReader.parse(line);
            if (!(req instanceof Map)) throw new IllegalArgumentException("each line must be a JSON object");
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) req;
            id = m.get("id");
            res = handle(m);
        } catch (Exception | StackOverflowError | OutOfMemoryError e) {
            res = new LinkedHashMap<>();
            res.put("id", id);
            res.put("error", describe(e));
            if (Boolean.getBoolean("lucene.oracle.trace")) {
                StringWriter sw = new StringWriter();
                e.printStackTrace(new PrintWriter(sw));
                System.err.println(sw);
            }
        }
        res.put("ms", (System.nanoTime() - t0) / 1000000L);
        StringBuilder b = new StringBuilder();
        writeJson(b, res);
        return b.toString();
    }
}
