package io.moeoracle.core.internal;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Walks a {@link ServiceLoader} so that one broken provider (class missing, constructor throwing)
 * is reported and the walk goes on. Not part of the public API (the package is not exported).
 */
public final class ServiceScan {
    /** Guards against a loader that keeps failing at the same place (e.g. an unreadable services file). */
    private static final int MAX_FAILURES = 256;
    private static final Pattern PROVIDER_NAME = Pattern.compile("^Provider (\\S+)");
    private static final Pattern NOT_SUBTYPE = Pattern.compile("^(\\S+) not a subtype");

    private ServiceScan() {
    }

    /**
     * A provider that loaded.
     *
     * @param instance the instance
     * @param type its class
     * @param source where it came from (jar, folder or module)
     * @param <S> the service type
     */
    public record Found<S>(S instance, Class<?> type, String source) {
    }

    /**
     * A provider that did not load.
     *
     * @param name the provider's class name, or {@code "?"} when the error does not say
     * @param source where it was declared
     * @param cause the error
     */
    public record Failed(String name, String source, Throwable cause) {
    }

    /**
     * What one walk found, each list in the loader's order. Returned rather than handed to callbacks:
     * discovery runs in a cold JVM, where each lambda at a call site costs ~0.2 ms to spin up.
     *
     * @param found the providers that loaded
     * @param failed the providers that did not
     * @param <S> the service type
     */
    public record Scan<S>(List<Found<S>> found, List<Failed> failed) {
    }

    /**
     * Instantiates every provider of a loader, skipping classes already in {@code seen}.
     *
     * @param loader the loader
     * @param where describes the loader, used as the source of failures whose class is unknown
     * @param seen provider classes already found (updated)
     * @param <S> the service type
     * @return what loaded and what failed
     */
    public static <S> Scan<S> scan(ServiceLoader<S> loader, String where, Set<Class<?>> seen) {
        List<Found<S>> found = new ArrayList<>();
        List<Failed> failed = new ArrayList<>();
        walk(loader, where, seen, found, failed);
        return new Scan<>(found, failed);
    }

    private static <S> void walk(ServiceLoader<S> loader, String where, Set<Class<?>> seen, List<Found<S>> found,
                                 List<Failed> failed) {
        Iterator<ServiceLoader.Provider<S>> it = loader.stream().iterator();
        int failures = 0;
        while (true) {
            ServiceLoader.Provider<S> provider;
            try {
                if (!it.hasNext()) {
                    return;
                }
                provider = it.next();
            } catch (ServiceConfigurationError | LinkageError e) {
                failed.add(new Failed(providerName(e), where, e));
                if (++failures >= MAX_FAILURES) {
                    return;
                }
                continue;
            }
            Class<?> type;
            try {
                type = provider.type();
            } catch (RuntimeException | LinkageError e) {
                failed.add(new Failed(providerName(e), where, e));
                continue;
            }
            if (!seen.add(type)) {
                continue;
            }
            S instance;
            try {
                instance = provider.get();
            } catch (ServiceConfigurationError | RuntimeException | LinkageError e) {
                failed.add(new Failed(type.getName(), sourceOf(type), e));
                continue;
            }
            found.add(new Found<>(instance, type, sourceOf(type)));
        }
    }

    private static String providerName(Throwable e) {
        // ServiceLoader's messages read "<service>: Provider <class> not found" or "<service>: <class> not a subtype"
        String message = e.getMessage();
        if (message == null) {
            return "?";
        }
        int colon = message.indexOf(": ");
        String rest = colon < 0 ? message : message.substring(colon + 2);
        for (Pattern p : new Pattern[] {PROVIDER_NAME, NOT_SUBTYPE}) {
            Matcher m = p.matcher(rest);
            if (m.find()) {
                return m.group(1);
            }
        }
        return "?";
    }

    /**
     * @param type a class
     * @return where it was loaded from: {@code module NAME (location)}, a jar or folder path, or
     *     the class loader's name
     */
    public static String sourceOf(Class<?> type) {
        String location = null;
        try {
            CodeSource cs = type.getProtectionDomain().getCodeSource();
            URL url = cs == null ? null : cs.getLocation();
            if (url != null) {
                location = toText(url);
            }
        } catch (SecurityException e) {
            location = null;
        }
        Module module = type.getModule();
        if (module.isNamed()) {
            return "module " + module.getName() + (location == null ? "" : " (" + location + ")");
        }
        if (location != null) {
            return location;
        }
        ClassLoader cl = type.getClassLoader();
        return cl == null ? "bootstrap class loader" : "class loader " + cl;
    }

    private static String toText(URL url) {
        if ("file".equals(url.getProtocol())) {
            try {
                return Path.of(url.toURI()).toString();
            } catch (URISyntaxException | IllegalArgumentException e) {
                return url.toString();
            }
        }
        return url.toString();
    }

    /**
     * @param t an error
     * @return its class and message, followed by the root cause's class and message when different
     */
    public static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder(oneLine(t));
        Throwable root = t;
        int guard = 0;
        while (root.getCause() != null && root.getCause() != root && guard++ < 32) {
            root = root.getCause();
        }
        if (root != t) {
            sb.append("; root cause: ").append(oneLine(root));
        }
        return sb.toString();
    }

    private static String oneLine(Throwable t) {
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m.strip().replaceAll("\\s*\\R\\s*", " "));
    }
}
