// Lung Nodules: analyse every .mhd scan in a folder, one candidates CSV per scan plus summary.csv.
//
// Arguments, one key=value string (values without spaces, or in [brackets]):
//   input=FOLDER output=FOLDER seg_model=FILE cls_model=FILE [mal_model=FILE] [threshold=0.5] [device=auto]
// Headless ImageJ 1 (no display needed), with our jar in IJ/plugins/ and its runtime jars in IJ/plugins/jars/:
//   java -jar ij.jar -ijpath IJ -batch macros/batch_analyze.ijm "input=/scans output=/out seg_model=... cls_model=..."
// A scan that fails is reported in summary.csv and the batch carries on.

// ImageJ 1 without a display builds no menus, so it does not look in its plugins folder until told:
// point it at the ImageJ folder given by -ijpath, so that call(...) below finds our classes.
if (getDirectory("plugins") == "") {
	call("java.lang.System.setProperty", "plugins.dir", getDirectory("imagej"));
	call("ij.IJ.resetClassLoader");
}

args = getArgument();
input = value(args, "input", "");
output = value(args, "output", "");
seg = value(args, "seg_model", "");
cls = value(args, "cls_model", "");
mal = value(args, "mal_model", "");
threshold = value(args, "threshold", "0.5");
device = value(args, "device", "auto");
known = newArray("input", "output", "seg_model", "cls_model", "mal_model", "threshold", "device");
checkKeys(args, known);
if (input == "" || output == "") exit("batch_analyze: give input=FOLDER and output=FOLDER");
if (!File.isDirectory(input)) exit("batch_analyze: input is not a folder: " + input);
File.makeDirectory(output);
if (!File.isDirectory(output)) exit("batch_analyze: cannot create the output folder: " + output);

files = getFileList(input);
Array.sort(files);
summary = "series,candidates,nodules,max_p_malignant,seconds,status";
count = 0;
failed = 0;
for (i = 0; i < files.length; i++) {
	if (!endsWith(toLowerCase(files[i]), ".mhd") && !endsWith(toLowerCase(files[i]), ".mha")) continue;
	count++;
	path = input + File.separator + files[i];
	series = substring(files[i], 0, lengthOf(files[i]) - 4);
	options = "input=[" + path + "] output=[" + output + "] threshold=" + threshold + " device=" + device;
	if (seg != "") options = options + " seg_model=[" + seg + "]";
	if (cls != "") options = options + " cls_model=[" + cls + "]";
	if (mal != "") options = options + " mal_model=[" + mal + "]";
	start = getTime();
	err = call("org.lungnodules.fiji.LunaPlugIn.tryRun", "analyze", options);
	seconds = d2s((getTime() - start) / 1000, 1);
	if (err == "") {
		candidates = call("org.lungnodules.fiji.LunaPlugIn.lastOutput", "candidates");
		nodules = call("org.lungnodules.fiji.LunaPlugIn.lastOutput", "nodules");
		maxMal = call("org.lungnodules.fiji.LunaPlugIn.lastOutput", "max_p_malignant");
		summary = summary + "\n" + series + "," + candidates + "," + nodules + "," + maxMal + "," + seconds + ",ok";
		print(series + ": " + nodules + " nodule(s) of " + candidates + " candidates, " + seconds + " s");
	} else {
		failed++;
		summary = summary + "\n" + series + ",,,," + seconds + ",\"failed: " + replace(err, "\"", "'") + "\"";
		print(series + ": FAILED: " + err);
	}
}
File.saveString(summary + "\n", output + File.separator + "summary.csv");
print("batch_analyze: " + count + " scan(s), " + failed + " failed; summary in " + output + File.separator + "summary.csv");

// The value of key in "k=v k2=[v 2]" style arguments, or the default.
function value(args, key, def) {
	s = " " + args;
	at = indexOf(s, " " + key + "=");
	if (at < 0) return def;
	rest = substring(s, at + lengthOf(key) + 2);
	if (startsWith(rest, "[")) return substring(rest, 1, indexOf(rest, "]"));
	end = indexOf(rest, " ");
	if (end < 0) return rest;
	return substring(rest, 0, end);
}

// Stops with a clear message when a key is misspelt, instead of silently ignoring it.
function checkKeys(args, known) {
	words = split(args, " ");
	for (w = 0; w < words.length; w++) {
		eq = indexOf(words[w], "=");
		if (eq <= 0 || startsWith(words[w], "[")) continue;
		k = substring(words[w], 0, eq);
		ok = false;
		for (j = 0; j < known.length; j++) if (known[j] == k) ok = true;
		if (!ok) exit("batch_analyze: unknown key '" + k + "'; the keys are input, output, seg_model, cls_model, mal_model, threshold, device");
	}
}
