package org.aiolos.core.docs;

import java.lang.reflect.Executable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Java name as the documents write it, resolved against a {@link SourceIndex}:
 * {@code Type}, {@code Type.member}, {@code Type.method(int, Runnable)},
 * {@code Type.method(...)} (any overload), {@code Outer.Inner.method()},
 * {@code org.aiolos.pkg.Type.member} or {@code new Type(long)}.
 */
final class JavaReference {
    private static final Pattern SHAPE = Pattern.compile(
            "(new\\s+)?([A-Za-z_$][\\w$]*(?:\\.[A-Za-z_$][\\w$]*)*)(?:\\(([^()]*)\\))?");

    /**
     * The outcome: the modules of the types it named ({@code "core (tests)"} for a test
     * type), or why it does not resolve.
     */
    record Resolution(String reference, Set<String> modules, String error) {
        boolean ok() {
            return error == null;
        }
    }

    private JavaReference() {
    }

    /** Whether {@code text} has the shape of a Java name (it may still not resolve). */
    static boolean looksLikeJava(String text) {
        return SHAPE.matcher(text).matches();
    }

    /**
     * Resolves {@code text}. When a simple type name is declared in several modules, the
     * ones in {@code moduleHint} are preferred; an ambiguity that remains is an error.
     */
    static Resolution resolve(SourceIndex index, String text, Set<String> moduleHint) {
        Matcher m = SHAPE.matcher(text.trim());
        if (!m.matches()) {
            return new Resolution(text, Set.of(), "not a Java name");
        }
        boolean constructor = m.group(1) != null;
        List<String> parts = List.of(m.group(2).split("\\."));
        List<String> args = m.group(3) == null ? null
                : m.group(3).isBlank() ? List.of()
                : Arrays.stream(m.group(3).split(",")).map(String::trim).toList();

        if (!constructor && args == null && index.isPackage(m.group(2))) {
            return new Resolution(text, index.modulesOfPackage(m.group(2)), null);
        }
        // the longest package prefix, then the outermost type
        int start = 0;
        String pkg = null;
        for (int i = parts.size() - 1; i > 0; i--) {
            String candidate = String.join(".", parts.subList(0, i));
            if (index.isPackage(candidate)) {
                pkg = candidate;
                start = i;
                break;
            }
        }
        if (pkg == null && Character.isLowerCase(parts.get(0).charAt(0))) {
            return new Resolution(text, Set.of(), "no package " + parts.get(0) + "… in the main sources");
        }
        List<SourceIndex.Type> types = new ArrayList<>();
        if (pkg != null) {
            SourceIndex.Type t = index.byQualifiedName(pkg + "." + parts.get(start));
            if (t != null) {
                types.add(t);
            }
        } else {
            types.addAll(index.bySimpleName(parts.get(0)));
            types.removeIf(t -> !t.qualifiedName().equals(t.packageName() + "." + t.simpleName()));
        }
        if (types.isEmpty()) {
            return pkg == null ? jdk(text, parts, args)
                    : new Resolution(text, Set.of(), "no type " + parts.get(start));
        }
        if (types.size() > 1) {
            List<SourceIndex.Type> hinted = types.stream()
                    .filter(t -> moduleHint.contains(t.module())).toList();
            if (hinted.size() == 1) {
                types = hinted;
            } else {
                return new Resolution(text, Set.of(), "type " + parts.get(start)
                        + " is declared more than once (" + types.stream()
                        .map(SourceIndex.Type::qualifiedName).toList() + "); qualify it");
            }
        }
        SourceIndex.Type type = types.getFirst();
        int i = start + 1;
        while (i < parts.size() && type.nested().contains(parts.get(i))) {
            type = index.byQualifiedName(type.qualifiedName() + "." + parts.get(i));
            i++;
        }
        // a test type is no Java home: the mapping's module check then fails for it
        Set<String> modules = Set.of(type.test() ? type.module() + " (tests)" : type.module());
        if (constructor) {
            if (i != parts.size()) {
                return new Resolution(text, modules, "no nested type " + parts.get(i) + " in "
                        + type.qualifiedName());
            }
            if (args != null && !matchesAny(type.constructors(), args)) {
                return new Resolution(text, modules, "no constructor " + type.simpleName()
                        + "(" + String.join(", ", args) + "); there are " + type.constructors());
            }
            return new Resolution(text, modules, null);
        }
        if (i == parts.size()) {
            // a bare type, or a constructor call written without "new" (Type("message"))
            return args == null || matchesAny(type.constructors(), args)
                    ? new Resolution(text, modules, null)
                    : new Resolution(text, modules, "no constructor " + type.simpleName() + "("
                    + String.join(", ", args) + "); there are " + type.constructors());
        }
        if (i != parts.size() - 1) {
            return new Resolution(text, modules, "no nested type " + parts.get(i) + " in "
                    + type.qualifiedName());
        }
        String member = parts.get(i);
        String error = member(index, type, member, args, new LinkedHashSet<>());
        return new Resolution(text, modules, error);
    }

    /** A JDK type the documents mention ({@code Object.notify()}), checked by reflection. */
    private static Resolution jdk(String text, List<String> parts, List<String> args) {
        for (String pkg : JDK_PACKAGES) {
            Class<?> c;
            try {
                c = Class.forName(pkg + "." + parts.getFirst(), false, JavaReference.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                continue;
            }
            if (parts.size() == 1) {
                return new Resolution(text, Set.of("jdk"), null);
            }
            String name = parts.get(1);
            boolean found = parts.size() == 2 && (Arrays.stream(c.getMethods()).anyMatch(x -> x.getName().equals(name))
                    || Arrays.stream(c.getFields()).anyMatch(x -> x.getName().equals(name) && args == null));
            return new Resolution(text, Set.of("jdk"), found ? null : "no member " + name + " in " + c.getName());
        }
        return new Resolution(text, Set.of(), "no type " + parts.getFirst());
    }

    private static final List<String> JDK_PACKAGES = List.of("java.lang", "java.util",
            "java.util.concurrent", "java.util.function", "java.io", "java.nio", "java.lang.invoke",
            "jdk.internal.vm");

    /** Null if {@code type} or one of its supertypes declares the member. */
    private static String member(SourceIndex index, SourceIndex.Type type, String name,
                                 List<String> args, Set<String> seen) {
        List<List<String>> overloads = new ArrayList<>();
        collectOverloads(index, type, name, overloads, seen);
        boolean field = containsField(index, type, name, new LinkedHashSet<>());
        if (args == null) {
            return overloads.isEmpty() && !field
                    ? "no member " + name + " in " + type.qualifiedName() + " or its supertypes" : null;
        }
        if (overloads.isEmpty()) {
            return "no method " + name + " in " + type.qualifiedName() + " or its supertypes";
        }
        return matchesAny(overloads, args) ? null
                : "no overload " + type.simpleName() + "." + name + "(" + String.join(", ", args)
                + "); declared: " + overloads;
    }

    private static void collectOverloads(SourceIndex index, SourceIndex.Type type, String name,
                                         List<List<String>> out, Set<String> seen) {
        if (!seen.add(type.qualifiedName())) {
            return;
        }
        out.addAll(type.methods().getOrDefault(name, List.of()));
        for (SourceIndex.Type s : index.supertypes(type)) {
            collectOverloads(index, s, name, out, seen);
        }
        for (Class<?> external : index.externalSupertypes(type)) {
            for (Executable e : external.getMethods()) {
                if (e.getName().equals(name)) {
                    out.add(Arrays.stream(e.getParameterTypes()).map(Class::getSimpleName).toList());
                }
            }
        }
    }

    private static boolean containsField(SourceIndex index, SourceIndex.Type type, String name,
                                         Set<String> seen) {
        if (!seen.add(type.qualifiedName())) {
            return false;
        }
        if (type.fields().contains(name)) {
            return true;
        }
        for (SourceIndex.Type s : index.supertypes(type)) {
            if (containsField(index, s, name, seen)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@code (...)} matches any overload; a call written with values ({@code open(false)},
     * {@code defaults(name)}) matches by arity; otherwise the simple type names must agree.
     */
    private static boolean matchesAny(List<List<String>> overloads, List<String> args) {
        if (args.size() == 1 && args.getFirst().equals("...")) {
            return !overloads.isEmpty();
        }
        if (args.stream().anyMatch(a -> a.startsWith("\"") || a.startsWith("'"))) {
            // a call quoted with its message: the name is what can be checked
            return !overloads.isEmpty();
        }
        if (args.stream().anyMatch(a -> !looksLikeType(a))) {
            return overloads.stream().anyMatch(o -> o.size() == args.size());
        }
        List<String> wanted = args.stream().map(SourceIndex::normalize).toList();
        return overloads.stream().anyMatch(o -> o.equals(wanted));
    }

    private static final Set<String> PRIMITIVES = Set.of("boolean", "byte", "short", "char",
            "int", "long", "float", "double");

    private static boolean looksLikeType(String arg) {
        if (arg.endsWith(".class")) {
            return false;
        }
        String base = arg.replaceAll("(\\[\\]|\\.\\.\\.)+$", "");
        return PRIMITIVES.contains(base) || base.matches("([a-z]\\w*\\.)*[A-Z][\\w$.]*(<.*>)?");
    }
}
