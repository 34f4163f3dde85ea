package org.lungnodules.fiji;

import java.io.InputStream;
import java.util.Properties;

import org.lungnodules.nn.Devices;
import org.scijava.ItemIO;
import org.scijava.command.Command;
import org.scijava.plugin.Parameter;
import org.scijava.plugin.Plugin;

/** Version, engine, device and where models and caches live: the first thing to send with a bug report. */
@Plugin(type = Command.class, name = "about", label = "About Lung Nodules", description = "Show version, engine, device and folders")
public class AboutCommand extends LunaCommand {

	@Parameter(type = ItemIO.OUTPUT, label = "About")
	private String about;

	@Override
	protected void execute() {
		about = text();
	}

	public String about() { return about; }

	public static String text() {
		Properties p = buildProperties();
		StringBuilder sb = new StringBuilder();
		sb.append("Lung Nodules for Fiji ").append(p.getProperty("version", "(development)")).append('\n');
		sb.append("Engine: DJL ").append(p.getProperty("djl.version", "?")).append(", PyTorch ")
			.append(p.getProperty("pytorch.version", "?")).append(" (").append(p.getProperty("pytorch.native", "?")).append(")\n");
		sb.append("Device: ").append(Devices.describe()).append('\n');
		sb.append("Models folder: ").append(Devices.modelsFolder()).append('\n');
		sb.append("DJL native cache: ").append(Devices.nativeCacheFolder()).append('\n');
		sb.append("Java: ").append(System.getProperty("java.version")).append(", max heap ")
			.append(Runtime.getRuntime().maxMemory() >> 20).append(" MB, ").append(Runtime.getRuntime().availableProcessors()).append(" cores\n");
		return sb.toString();
	}

	static Properties buildProperties() {
		Properties p = new Properties();
		try (InputStream in = AboutCommand.class.getResourceAsStream("/lung-nodules.properties")) {
			if (in != null) p.load(in);
		}
		catch (Exception e) {
			// version unknown; About still shows the rest
		}
		return p;
	}
}
