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
 * Which model file a command uses when the user names none: the published weights in the models
 * folder (after {@code fetch-models}), else the demo weights shipped in the jar (trained on synthetic
 * CTs only). Every command that takes a model accepts a published {@code .state} or our {@code .pt}.
 */
final class Models {

	private Models() {}

	static Path resolve(Networks.Kind kind, File given, boolean required) throws IOException {
		if (given != null) {
			Path p = given.toPath();
			if (!Files.isRegularFile(p)) throw new LunaCommand.BadValue(key(kind) + ": no such model file: " + p);
			return p;
		}
		Path folder = Devices.modelsFolder();
		String published = kind == Networks.Kind.SEG ? PublishedModels.SEGMENTATION : kind == Networks.Kind.CLS ? PublishedModels.CLASSIFIER : null;
		if (published != null && Files.isRegularFile(folder.resolve(published))) return folder.resolve(published);
		Path demo = DemoModels.path(kind);
		if (demo != null) return demo;
		if (!required) return null;
		throw new LunaCommand.BadValue(key(kind) + " was not given and no model was found in " + folder +
			"; run ./luna fetch-models (Plugins > Lung Nodules > Models > Fetch Published Models) or give " + key(kind) + "=FILE");
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
