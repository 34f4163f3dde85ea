// Lung Nodules: analyse every CT in a folder (.mhd/.mha, .nii/.nii.gz, DICOM series folders), one candidates CSV
// per scan plus summary.csv and failures.csv, exactly as `./luna analyze input=FOLDER output=FOLDER` does.
//
// Arguments, one key=value string (values without spaces, or in [brackets]):
//   input=FOLDER output=FOLDER [seg_model=FILE] [cls_model=FILE] [mal_model=FILE] [threshold=0.5] [device=auto]
//   [overwrite=false] [shard=i/n]
// Headless ImageJ 1 (no display needed), with our jar in IJ/plugins/ and its runtime jars in IJ/plugins/jars/:
//   java -jar ij.jar -ijpath IJ -batch macros/batch_analyze.ijm "input=/scans output=/out seg_model=... cls_model=..."
// The cohort walk is the engine's: a scan that fails is logged and listed in failures.csv and the batch carries
// on; scans done in output by an earlier run are skipped (overwrite=true redoes them), so a stopped batch resumes.

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
overwrite = value(args, "overwrite", "false");
shard = value(args, "shard", "");
known = newArray("input", "output", "seg_model", "cls_model", "mal_model", "threshold", "device", "overwrite", "shard");
checkKeys(args, known);
if (input == "" || output == "") exit("batch_analyze: give input=FOLDER and output=FOLDER");
if (!File.isDirectory(input)) exit("batch_analyze: input is not a folder: " + input);

options = "input=[" + input + "] output=[" + output + "] threshold=" + threshold + " device=" + device + " overwrite=" + overwrite;
if (seg != "") options = options + " seg_model=[" + seg + "]";
if (cls != "") options = options + " cls_model=[" + cls + "]";
if (mal != "") options = options + " mal_model=[" + mal + "]";
if (shard != "") options = options + " shard=" + shard;
err = call("org.lungnodules.fiji.LunaPlugIn.tryRun", "analyze", options);
if (err != "") exit("batch_analyze: " + err);
analysed = call("org.lungnodules.fiji.LunaPlugIn.lastOutput", "analysed");
skipped = call("org.lungnodules.fiji.LunaPlugIn.lastOutput", "skipped");
failed = call("org.lungnodules.fiji.LunaPlugIn.lastOutput", "failed");
print("batch_analyze: " + analysed + " analysed, " + skipped + " skipped (done before), " + failed + " failed; summary in " +
	output + File.separator + "summary.csv" + ", failures in " + output + File.separator + "failures.csv");

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
		if (!ok) exit("batch_analyze: unknown key '" + k + "'; the keys are input, output, seg_model, cls_model, mal_model, threshold, device, overwrite, shard");
	}
}
