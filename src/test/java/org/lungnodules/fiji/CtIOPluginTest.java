package org.lungnodules.fiji;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lungnodules.SharedData;
import org.lungnodules.io.MetaImage;
import org.scijava.Context;
import org.scijava.io.IOService;

import net.imglib2.RandomAccess;
import net.imglib2.img.Img;
import net.imglib2.img.array.ArrayImgs;
import net.imglib2.type.numeric.RealType;
import net.imglib2.type.numeric.integer.ShortType;
import net.imglib2.type.numeric.real.FloatType;

class CtIOPluginTest {

	@TempDir
	Path dir;

	@Test
	@SuppressWarnings("unchecked")
	void ioServiceOpensMhdAndMha() throws IOException {
		Path mhd = SharedData.require("reference/phantom-a/phantom-a.mhd");
		try (Context ctx = new Context(IOService.class)) {
			IOService io = ctx.service(IOService.class);
			Object opened = io.open(mhd.toString());
			assertInstanceOf(Img.class, opened);
			Img<? extends RealType<?>> img = (Img<? extends RealType<?>>) opened;
			assertArrayEquals(new long[] { 256, 256, 96 }, img.dimensionsAsLongArray());
			assertInstanceOf(ShortType.class, img.firstElement());
			RandomAccess<? extends RealType<?>> ra = img.randomAccess();
			RandomAccess<? extends RealType<?>> ref = MetaImage.read(mhd).image().randomAccess();
			ra.setPosition(new long[] { 61, 147, 37 });
			ref.setPosition(new long[] { 61, 147, 37 });
			assertEquals(ref.get().getRealDouble(), ra.get().getRealDouble());

			// Save through the service, then open the .mha again.
			Img<FloatType> f = ArrayImgs.floats(new float[] { 1.5f, -2, 3, 4 }, 2, 2);
			Path mha = dir.resolve("f.mha");
			io.save(f, mha.toString());
			assertEquals(true, Files.exists(mha));
			Img<? extends RealType<?>> back = (Img<? extends RealType<?>>) io.open(mha.toString());
			RandomAccess<? extends RealType<?>> b = back.randomAccess();
			b.setPosition(new long[] { 1, 0 });
			assertEquals(-2.0, b.get().getRealDouble());
		}
	}
}
