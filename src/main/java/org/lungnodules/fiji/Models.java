package org.lungnodules.fiji;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.lungnodules.nn.DemoModels;
import org.lungnodules.nn.Devices;
import org.lungnodules.nn.Inference;
import org.lungnodules.nn.ModelFiles;
import org.lungnodules.nn.Networks;
import org.lungnodules.nn.PublishedModels;

/**
 * Which model file a command uses when the user names none.
 * <p>
 * On a user's scan ({@code analyze}, {@code segment}, {@code classify}, {@code score-malignancy}) only
 * the published weights fetched into the models folder stand in for a missing {@code seg_model=} or
 * {@code cls_model=}. The small demo models shipped in the jar were trained on synthetic CTs only: on
 * the real LIDC-IDRI-0001 they missed its 23 mm nodule and reported two false ones, so they are used
 * only when the user opts in with {@code models=demo}, and then every output says so. {@code demo}
 * (a synthetic CT) takes the published weights when fetched, else the demo models.
 */
final class Models {

	/** {@code models=} values: the fetched published weights (the default), or the jar's demo models. */
	static final String PUBLISHED = "published", DEMO = "demo";

	/** Said in every output of a run that used a demo model, where the user looks for results. */
	static final String DEMO_WARNING = "WARNING: demo models were used; they were trained on synthetic CTs only and their results on a " +
		"real scan are not meaningful (fetch the published weights with ./luna fetch-models, or give seg_model=/cls_model=)";

	private Models() {}

	/**
	 * The model of {@code kind} for a command on a user's scan.
	 *
	 * @param given the file the user named, or null
	 * @param models {@link #PUBLISHED} or {@link #DEMO}
	 * @param required whether the command cannot run without this network
	 * @return the file, or null when not required and none is at hand
	 */
	static Path resolve(Networks.Kind kind, File given, String models, boolean required) throws IOException {
		if (given != null) {
			Path p = given.toPath();
			if (!Files.isRegularFile(p)) throw new LunaCommand.BadValue(key(kind) + ": no such model file: " + p);
			return p;
		}
		if (DEMO.equals(models)) {
			Path demo = DemoModels.path(kind);
			if (demo != null || !required) return demo;
			throw new LunaCommand.BadValue("models=demo: this build ships no demo " + key(kind) + "; give " + key(kind) + "=FILE");
		}
		if (!PUBLISHED.equals(models)) throw new LunaCommand.BadValue("models must be '" + PUBLISHED + "' or '" + DEMO + "': " + models);
		Path published = publishedFile(kind);
		if (published != null) return published;
		if (!required) return null;
		if (kind == Networks.Kind.MAL)
			throw new LunaCommand.BadValue("mal_model=FILE is needed: there are no published malignancy weights; train one with " +
				"./luna train-mal (Plugins > Lung Nodules > Training), or add models=demo to try the demo model (synthetic CTs only)");
		throw new LunaCommand.BadValue(key(kind) + " was not given and the published weights are not in " + Devices.modelsFolder() +
			". Fetch them with ./luna fetch-models (in Fiji: Plugins > Lung Nodules > Models > Fetch Published Models), or give " +
			"seg_model=FILE and cls_model=FILE (the book's .state files or our .pt). The demo models in the jar were trained on " +
			"synthetic CTs only and miss real nodules; to try them anyway, add models=demo");
	}

	/** For {@code demo} on a synthetic CT: the published weights when fetched, else the jar's demo model. */
	static Path forSyntheticCt(Networks.Kind kind) {
		Path published = publishedFile(kind);
		return published != null ? published : DemoModels.path(kind);
	}

	/** True when {@code models=demo} stands in for at least one of the networks a command uses (given as null here). */
	static boolean demoUsed(String models, File... givenForNeededNetworks) {
		if (!DEMO.equals(models)) return false;
		for (File f : givenForNeededNetworks)
			if (f == null) return true;
		return false;
	}

	private static Path publishedFile(Networks.Kind kind) {
		String name = kind == Networks.Kind.SEG ? PublishedModels.SEGMENTATION : kind == Networks.Kind.CLS ? PublishedModels.CLASSIFIER : null;
		if (name == null) return null;
		Path p = Devices.modelsFolder().resolve(name);
		return Files.isRegularFile(p) ? p : null;
	}

	static String key(Networks.Kind kind) {
		return kind == Networks.Kind.SEG ? "seg_model" : kind == Networks.Kind.CLS ? "cls_model" : "mal_model";
	}

	/** Opens an inference service with the given networks (null paths are skipped). */
	static Inference open(String device, int batchSize, Path seg, Path cls, Path mal) throws IOException {
		Inference.Builder b = Inference.builder().device(device);
		if (batchSize > 0) b.batchSize(batchSize);
		if (seg != null) ModelFiles.addTo(b, Networks.Kind.SEG, seg);
		if (cls != null) ModelFiles.addTo(b, Networks.Kind.CLS, cls);
		if (mal != null) ModelFiles.addTo(b, Networks.Kind.MAL, mal);
		return b.build();
	}
}
