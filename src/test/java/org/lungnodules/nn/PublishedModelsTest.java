package org.lungnodules.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.Progress;
import org.lungnodules.SharedData;
import org.lungnodules.fiji.LunaCliTest;

/** fetch-models against a file: URL of the shared copy of the book's folder (no internet here). */
class PublishedModelsTest {

	@TempDir
	Path temp;

	@Test
	void builtInDigestsAgreeWithTheSharedSums() throws Exception {
		Map<String, String> sums = PublishedModels.readDigests(SharedData.require("models/SHA256SUMS"));
		for (Map.Entry<String, String> e : PublishedModels.DIGESTS.entrySet()) assertEquals(sums.get(e.getKey()), e.getValue(), e.getKey());
	}

	@Test
	void fetchesAndChecksFromAFileUrl() throws Exception {
		Path book = SharedData.require("models/book");
		List<Path> files = PublishedModels.fetch(book.toUri().toString(), temp.resolve("models"), PublishedModels.DIGESTS, Progress.NONE);
		assertEquals(2, files.size());
		for (Path f : files) assertEquals(Files.size(book.resolve(f.getFileName())), Files.size(f));
		// Through the command line too, with the digests read from the shared SHA256SUMS.
		LunaCliTest.Outcome o = LunaCliTest.luna("fetch-models", "output=" + temp.resolve("cli"), "base_url=" + book.toUri(),
			"digests=" + SharedData.require("models/SHA256SUMS"));
		assertEquals(0, o.code(), o.err());
		assertTrue(Files.exists(temp.resolve("cli").resolve(PublishedModels.CLASSIFIER)));
	}

	@Test
	void wrongDigestDeletesTheDownloadAndFails() throws Exception {
		Path book = SharedData.require("models/book");
		Map<String, String> wrong = Map.of(PublishedModels.CLASSIFIER, "00".repeat(32));
		Path models = temp.resolve("models");
		PublishedModels.DigestMismatchException e = assertThrows(PublishedModels.DigestMismatchException.class,
			() -> PublishedModels.fetch(book.toUri().toString(), models, wrong, Progress.NONE));
		assertTrue(e.getMessage().contains("SHA-256"), e.getMessage());
		try (var s = Files.list(models)) {
			assertFalse(s.findAny().isPresent(), "nothing may be left behind");
		}
	}

	@Test
	void missingFileIsNamed() {
		Path empty = temp.resolve("empty");
		Exception e = assertThrows(java.io.IOException.class,
			() -> PublishedModels.fetch(temp.toUri() + "nothing-here/", empty, PublishedModels.DIGESTS, Progress.NONE));
		assertTrue(e.getMessage().contains(PublishedModels.CLASSIFIER), e.getMessage());
	}
}
