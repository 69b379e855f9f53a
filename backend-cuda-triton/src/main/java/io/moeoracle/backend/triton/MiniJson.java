package io.moeoracle.backend.triton;

import io.moeoracle.api.error.NativeFailureException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small JSON reader for the launch metadata that aot.py writes (objects, arrays, strings, numbers,
 * true/false/null). Objects become {@code Map<String, Object>}, arrays {@code List<Object>}, numbers
 * {@code Long} or {@code Double}; JSON null becomes {@link #NULL}, so no Java null leaves this class.
 */
final class MiniJson {
    /** JSON null. */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private final String text;
    private final String source;
    private int at;

    private MiniJson(String text, String source) {
        this.text = text;
        this.source = source;
    }

    /**
     * @param text the JSON text
     * @param source what it is, for error messages (e.g. the resource name)
     * @return the parsed value
     */
    static Object parse(String text, String source) {
        MiniJson p = new MiniJson(text, source);
        Object v = p.value();
        p.skip();
        if (p.at != text.length()) {
            throw p.error("trailing characters");
        }
        return v;
    }

    private Object value() {
        skip();
        if (at >= text.length()) {
            throw error("unexpected end");
        }
        char c = text.charAt(at);
        switch (c) {
            case '{' -> {
                at++;
                Map<String, Object> m = new LinkedHashMap<>();
                skip();
                if (peek() == '}') {
                    at++;
                    return m;
                }
                while (true) {
                    skip();
                    String k = string();
                    skip();
                    expect(':');
                    m.put(k, value());
                    skip();
                    if (peek() == ',') {
                        at++;
                    } else {
                        expect('}');
                        return m;
                    }
                }
            }
            case '[' -> {
                at++;
                List<Object> l = new ArrayList<>();
                skip();
                if (peek() == ']') {
                    at++;
                    return l;
                }
                while (true) {
                    l.add(value());
                    skip();
                    if (peek() == ',') {
                        at++;
                    } else {
                        expect(']');
                        return l;
                    }
                }
            }
            case '"' -> {
                return string();
            }
            default -> {
                if (text.startsWith("true", at)) {
                    at += 4;
                    return Boolean.TRUE;
                }
                if (text.startsWith("false", at)) {
                    at += 5;
                    return Boolean.FALSE;
                }
                if (text.startsWith("null", at)) {
                    at += 4;
                    return NULL;
                }
                return number();
            }
        }
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (at < text.length()) {
            char c = text.charAt(at++);
            if (c == '"') {
                return sb.toString();
            }
            if (c == '\\') {
                char e = text.charAt(at++);
                switch (e) {
                    case 'n' -> sb.append('\n');
                    case 't' -> sb.append('\t');
                    case 'r' -> sb.append('\r');
                    case 'b' -> sb.append('\b');
                    case 'f' -> sb.append('\f');
                    case 'u' -> {
                        sb.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> sb.append(e);
                }
            } else {
                sb.append(c);
            }
        }
        throw error("unterminated string");
    }

    private Object number() {
        int start = at;
        while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) {
            at++;
        }
        String n = text.substring(start, at);
        if (n.isEmpty()) {
            throw error("unexpected character '" + text.charAt(start) + "'");
        }
        try {
            return n.contains(".") || n.contains("e") || n.contains("E") ? (Object) Double.parseDouble(n)
                    : (Object) Long.parseLong(n);
        } catch (NumberFormatException e) {
            throw error("bad number '" + n + "'");
        }
    }

    private char peek() {
        return at < text.length() ? text.charAt(at) : '\0';
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        at++;
    }

    private void skip() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private NativeFailureException error(String what) {
        return TritonImage.broken(source, source + " is not valid JSON: " + what + " at offset " + at
                + "; regenerate the kernel artifacts with src/main/triton/aot.py");
    }
}
