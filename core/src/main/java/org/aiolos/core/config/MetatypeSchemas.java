package org.aiolos.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.osgi.framework.Bundle;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.SAXException;

/**
 * Reads a {@link ConfigSchema} from the Metatype a bundle declares for a PID (its
 * {@code OSGI-INF/metatype/*.xml}, which bnd writes from the component's
 * {@code @ObjectClassDefinition}), so that the names, types, bounds, options and defaults
 * of a configuration are written once, in those annotations. The XML is read directly
 * rather than through the Metatype service because the service's API does not expose
 * an attribute's bounds, which the checks need for their messages.
 */
public final class MetatypeSchemas {
    private static final String FOLDER = "OSGI-INF/metatype";

    private MetatypeSchemas() {
    }

    /**
     * @param bundle the bundle declaring the Metatype
     * @param pid a PID or factory PID it designates
     * @throws IllegalStateException when the bundle declares no Metatype for {@code pid}
     */
    @SuppressWarnings("exports") // an OSGi type: this method is used only inside an OSGi framework
    public static ConfigSchema of(Bundle bundle, String pid) {
        Enumeration<URL> files = bundle.findEntries(FOLDER, "*.xml", false);
        while (files != null && files.hasMoreElements()) {
            URL url = files.nextElement();
            try (InputStream in = url.openStream()) {
                ConfigSchema s = parse(in, pid);
                if (s != null) {
                    return s;
                }
            } catch (IOException e) {
                throw new IllegalStateException("cannot read " + url + ": " + e, e);
            }
        }
        throw new IllegalStateException(bundle.getSymbolicName() + " declares no Metatype for " + pid);
    }

    /**
     * @param xml a Metatype document
     * @param pid the PID or factory PID whose designated OCD to read
     * @return its schema, or null when the document does not designate {@code pid}
     */
    public static ConfigSchema parse(InputStream xml, String pid) throws IOException {
        Document doc;
        try {
            DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
            f.setNamespaceAware(false);
            f.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
            doc = f.newDocumentBuilder().parse(xml);
        } catch (ParserConfigurationException | SAXException e) {
            throw new IOException("not a Metatype document: " + e.getMessage(), e);
        }
        String ocdRef = null;
        NodeList designates = doc.getElementsByTagName("Designate");
        for (int i = 0; i < designates.getLength(); i++) {
            Element d = (Element) designates.item(i);
            if (pid.equals(d.getAttribute("factoryPid")) || pid.equals(d.getAttribute("pid"))) {
                NodeList objects = d.getElementsByTagName("Object");
                ocdRef = objects.getLength() == 0 ? null : ((Element) objects.item(0)).getAttribute("ocdref");
            }
        }
        if (ocdRef == null) {
            return null;
        }
        NodeList ocds = doc.getElementsByTagName("OCD");
        for (int i = 0; i < ocds.getLength(); i++) {
            Element ocd = (Element) ocds.item(i);
            if (ocdRef.equals(ocd.getAttribute("id"))) {
                return new ConfigSchema(pid, fields(ocd));
            }
        }
        throw new IOException("Designate of " + pid + " names OCD " + ocdRef + ", which the document lacks");
    }

    private static List<ConfigField> fields(Element ocd) throws IOException {
        List<ConfigField> out = new ArrayList<>();
        NodeList ads = ocd.getElementsByTagName("AD");
        for (int i = 0; i < ads.getLength(); i++) {
            Element ad = (Element) ads.item(i);
            List<String> options = new ArrayList<>();
            NodeList os = ad.getElementsByTagName("Option");
            for (int j = 0; j < os.getLength(); j++) {
                options.add(((Element) os.item(j)).getAttribute("value"));
            }
            out.add(new ConfigField(ad.getAttribute("id"), type(ad), attribute(ad, "default"), bound(ad, "min"),
                    bound(ad, "max"), options, !"false".equals(ad.getAttribute("required")),
                    ad.getAttribute("description")));
        }
        return out;
    }

    private static ConfigField.Type type(Element ad) throws IOException {
        String t = ad.getAttribute("type");
        return switch (t) {
            case "String" -> ConfigField.Type.STRING;
            case "Long" -> ConfigField.Type.LONG;
            case "Integer" -> ConfigField.Type.INTEGER;
            case "Boolean" -> ConfigField.Type.BOOLEAN;
            default -> throw new IOException("attribute " + ad.getAttribute("id") + ": type " + t
                    + " is not one Aiolos configurations use");
        };
    }

    private static String attribute(Element e, String name) {
        return e.hasAttribute(name) ? e.getAttribute(name) : null;
    }

    private static Long bound(Element ad, String name) throws IOException {
        String v = attribute(ad, name);
        try {
            return v == null ? null : Long.valueOf(v);
        } catch (NumberFormatException e) {
            throw new IOException("attribute " + ad.getAttribute("id") + ": " + name + " '" + v + "' is not an integer",
                    e);
        }
    }
}
