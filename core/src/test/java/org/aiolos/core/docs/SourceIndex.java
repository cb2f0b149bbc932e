package org.aiolos.core.docs;

import com.sun.source.tree.ClassTree;
import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.ImportTree;
import com.sun.source.tree.LiteralTree;
import com.sun.source.tree.MethodTree;
import com.sun.source.tree.ModifiersTree;
import com.sun.source.tree.Tree;
import com.sun.source.tree.VariableTree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreeScanner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * Every type declared in the repository's sources ({@code <module>/src/main/java}, and
 * {@code src/test/java} for the tests documents cite as evidence),
 * parsed with javac's own parser (no compilation, no class loading), with its methods,
 * constructors, fields and supertypes: enough to tell whether a name such as
 * {@code AioContext.setFdHandler(int, Runnable, Runnable)} written in a document still
 * exists, and in which module.
 */
final class SourceIndex {

    /** One declared type. {@code module} is the repository directory it lives in. */
    record Type(String module, boolean test, String packageName, String qualifiedName, String simpleName,
                Map<String, List<List<String>>> methods, List<List<String>> constructors,
                Set<String> fields, Set<String> nested, List<String> supertypes,
                Map<String, String> imports) {
    }

    private final Map<String, Type> byQualifiedName = new LinkedHashMap<>();
    private final Map<String, List<Type>> bySimpleName = new HashMap<>();
    private final Set<String> packages;
    private final Set<String> modules;
    private final Set<String> stringLiterals;

    private SourceIndex(List<Type> types, Set<String> modules, Set<String> stringLiterals) {
        for (Type t : types) {
            byQualifiedName.put(t.qualifiedName(), t);
            bySimpleName.computeIfAbsent(t.simpleName(), k -> new ArrayList<>()).add(t);
        }
        this.packages = types.stream().map(Type::packageName).collect(Collectors.toSet());
        this.modules = modules;
        this.stringLiterals = stringLiterals;
    }

    private static final Map<Path, SourceIndex> CACHE = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Parses every {@code *.java} under {@code root/<module>/src/{main,test}/java}, once per test
     * JVM: the sources do not change while the tests run.
     */
    static SourceIndex of(Path root) {
        return CACHE.computeIfAbsent(root.toAbsolutePath().normalize(), SourceIndex::parse);
    }

    private static SourceIndex parse(Path root) {
        Map<Path, String> moduleOf = new LinkedHashMap<>();
        Set<Path> testFiles = new java.util.HashSet<>();
        try (Stream<Path> dirs = Files.list(root)) {
            for (Path dir : dirs.sorted().toList()) {
                for (String tree : List.of("src/main/java", "src/test/java")) {
                    Path src = dir.resolve(tree);
                    if (!Files.isDirectory(src)) {
                        continue;
                    }
                    try (Stream<Path> files = Files.walk(src)) {
                        files.filter(f -> f.toString().endsWith(".java"))
                                .filter(f -> !f.getFileName().toString().equals("module-info.java"))
                                .forEach(f -> {
                                    moduleOf.put(f, dir.getFileName().toString());
                                    if (tree.startsWith("src/test")) {
                                        testFiles.add(f);
                                    }
                                });
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<Type> types = new ArrayList<>();
        Set<String> literals = new java.util.HashSet<>();
        try (StandardJavaFileManager files =
                     javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            JavacTask task = (JavacTask) javac.getTask(null, files, diagnostics,
                    List.of("-proc:none"), null, files.getJavaFileObjectsFromPaths(moduleOf.keySet()));
            for (CompilationUnitTree unit : task.parse()) {
                Path file = Path.of(unit.getSourceFile().toUri());
                String module = moduleOf.get(file);
                boolean test = testFiles.contains(file);
                String pkg = unit.getPackageName() == null ? "" : unit.getPackageName().toString();
                Map<String, String> imports = new HashMap<>();
                for (ImportTree imp : unit.getImports()) {
                    String name = imp.getQualifiedIdentifier().toString();
                    if (!imp.isStatic() && !name.endsWith(".*")) {
                        imports.put(name.substring(name.lastIndexOf('.') + 1), name);
                    }
                }
                TreeScanner<Void, Void> literalsOfMain = new TreeScanner<>() {
                    @Override
                    public Void visitLiteral(LiteralTree node, Void unused) {
                        if (node.getValue() instanceof String text) {
                            literals.add(text);
                        }
                        return null;
                    }
                };
                if (!test) {
                    unit.accept(literalsOfMain, null);
                }
                for (Tree decl : unit.getTypeDecls()) {
                    if (decl instanceof ClassTree c) {
                        collect(c, module, test, pkg, pkg.isEmpty() ? "" : pkg + ".", imports, types);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> errors = diagnostics.getDiagnostics().stream()
                .filter(d -> d.getKind() == javax.tools.Diagnostic.Kind.ERROR)
                .map(Object::toString).toList();
        if (!errors.isEmpty()) {
            throw new IllegalStateException("main sources do not parse: " + errors);
        }
        return new SourceIndex(types, Set.copyOf(moduleOf.values()), literals);
    }

    private static void collect(ClassTree c, String module, boolean test, String pkg, String prefix,
                                Map<String, String> imports, List<Type> out) {
        String simple = c.getSimpleName().toString();
        Map<String, List<List<String>>> methods = new LinkedHashMap<>();
        List<List<String>> constructors = new ArrayList<>();
        Set<String> fields = new java.util.LinkedHashSet<>();
        Set<String> nested = new java.util.LinkedHashSet<>();
        List<String> supertypes = new ArrayList<>();
        if (c.getExtendsClause() != null) {
            supertypes.add(typeName(c.getExtendsClause()));
        }
        c.getImplementsClause().forEach(t -> supertypes.add(typeName(t)));
        if (c.getKind() == Tree.Kind.ENUM) {
            methods.computeIfAbsent("values", k -> new ArrayList<>()).add(List.of());
            methods.computeIfAbsent("valueOf", k -> new ArrayList<>()).add(List.of("String"));
        }
        for (Tree member : c.getMembers()) {
            switch (member) {
                case MethodTree m -> {
                    List<String> params = m.getParameters().stream()
                            .map(p -> typeName(p.getType())).toList();
                    if (m.getName().contentEquals("<init>")) {
                        constructors.add(params);
                    } else {
                        methods.computeIfAbsent(m.getName().toString(), k -> new ArrayList<>())
                                .add(params);
                    }
                }
                case VariableTree v -> {
                    fields.add(v.getName().toString());
                    if (c.getKind() == Tree.Kind.RECORD && !isStatic(v.getModifiers())) {
                        // a record component: javac's parser keeps it as a field; the
                        // accessor and the canonical constructor are implicit.
                        methods.computeIfAbsent(v.getName().toString(), k -> new ArrayList<>())
                                .add(List.of());
                    }
                }
                case ClassTree inner -> {
                    nested.add(inner.getSimpleName().toString());
                    collect(inner, module, test, pkg, prefix + simple + ".", imports, out);
                }
                default -> { }
            }
        }
        if (c.getKind() == Tree.Kind.RECORD) {
            List<String> canonical = c.getMembers().stream()
                    .filter(m -> m instanceof VariableTree v && !isStatic(v.getModifiers()))
                    .map(m -> typeName(((VariableTree) m).getType())).toList();
            constructors.add(canonical);
        }
        if (constructors.isEmpty() && c.getKind() == Tree.Kind.CLASS) {
            constructors.add(List.of());
        }
        out.add(new Type(module, test, pkg, prefix + simple, simple, methods, constructors, fields,
                nested, supertypes, imports));
    }

    private static boolean isStatic(ModifiersTree m) {
        return m.getFlags().contains(javax.lang.model.element.Modifier.STATIC);
    }

    /** A type as written in source, reduced to how a document names it: {@code Runnable}. */
    static String typeName(Tree t) {
        return normalize(t.toString());
    }

    /**
     * {@code @Nullable java.util.concurrent.Callable<T>} → {@code Callable};
     * {@code byte[]} and {@code long...} keep their suffix.
     */
    static String normalize(String type) {
        String s = type.replaceAll("@[\\w.]+(\\([^)]*\\))?\\s*", "").trim();
        int depth = 0;
        StringBuilder b = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch == '<') {
                depth++;
            } else if (ch == '>') {
                depth--;
            } else if (depth == 0) {
                b.append(ch);
            }
        }
        s = b.toString().replace(" ", "");
        String suffix = "";
        while (s.endsWith("[]") || s.endsWith("...")) {
            int cut = s.endsWith("[]") ? 2 : 3;
            suffix = s.substring(s.length() - cut) + suffix;
            s = s.substring(0, s.length() - cut);
        }
        return s.substring(s.lastIndexOf('.') + 1) + suffix;
    }

    /**
     * Whether some main source spells {@code text} as a string literal: the names of JFR
     * events, configuration PIDs and properties, which the documents cite like classes.
     */
    boolean isStringLiteral(String text) {
        return stringLiterals.contains(text);
    }

    Set<String> modules() {
        return modules;
    }

    boolean isPackage(String name) {
        return packages.contains(name);
    }

    Set<String> modulesOfPackage(String name) {
        return byQualifiedName.values().stream().filter(t -> t.packageName().equals(name))
                .map(Type::module).collect(Collectors.toSet());
    }

    Type byQualifiedName(String name) {
        return byQualifiedName.get(name);
    }

    /** Main types of that name; test types only when no main type has it. */
    List<Type> bySimpleName(String name) {
        List<Type> all = bySimpleName.getOrDefault(name, List.of());
        List<Type> main = all.stream().filter(t -> !t.test()).toList();
        return main.isEmpty() ? all : main;
    }

    /** The indexed supertypes of {@code t} by the names its declaration uses. */
    List<Type> supertypes(Type t) {
        List<Type> result = new ArrayList<>();
        for (String s : t.supertypes()) {
            String imported = t.imports().get(s);
            Type exact = imported == null ? byQualifiedName(t.packageName() + "." + s)
                    : byQualifiedName(imported);
            if (exact != null) {
                result.add(exact);
            } else {
                result.addAll(bySimpleName(s));
            }
        }
        return result;
    }

    /**
     * Supertypes outside the repository (JDK types such as {@code AutoCloseable}), as
     * loaded classes, so members inherited from them resolve too.
     */
    List<Class<?>> externalSupertypes(Type t) {
        List<Class<?>> result = new ArrayList<>();
        for (String s : t.supertypes()) {
            if (!bySimpleName(s).isEmpty()) {
                continue;
            }
            String imported = t.imports().getOrDefault(s, "java.lang." + s);
            try {
                result.add(Class.forName(imported, false, SourceIndex.class.getClassLoader()));
            } catch (ClassNotFoundException e) {
                // a supertype from a library this test does not load: nothing inherited from it
                // can be named in the documents without failing the check, which is the point
            }
        }
        return result;
    }
}
