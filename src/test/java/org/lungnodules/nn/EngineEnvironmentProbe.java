package org.lungnodules.nn;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Run by {@link EngineEnvironmentTest} in a JVM of its own: starts the engine our way ({@code ours}) or
 * DJL's plain way ({@code plain}), writes into an array (the operation that makes libtorch print its
 * deprecation warning) and prints c10's log level and the allocator state on stdout.
 */
public final class EngineEnvironmentProbe {

	public static void main(String[] args) {
		Engine engine = args.length > 0 && args[0].equals("plain") ? Engine.getEngine("PyTorch") : Devices.engine();
		try (NDManager m = engine.newBaseManager()) {
			NDArray a = m.zeros(new Shape(2));
			a.set(new float[] { 1, 2 });
			System.out.println("sum=" + a.sum().getFloat());
		}
		if (args.length > 0 && args[0].equals("trim")) {
			// 8 arrays of 16 MB, each written in full (resident), then freed: glibc keeps them in its heaps
			try (NDManager m = engine.newBaseManager()) {
				for (int i = 0; i < 8; i++) m.ones(new Shape(4, 1024, 1024)).muli(2);
				System.out.println("rss_held_kb=" + residentKb());
			}
			System.out.println("rss_freed_kb=" + residentKb());
			System.out.println("released=" + EngineEnvironment.releaseFreeMemory());
			System.out.println("rss_trimmed_kb=" + residentKb());
		}
		System.out.println("c10_log_level=" + EngineEnvironment.c10LogLevel());
		System.out.println("malloc=" + EngineEnvironment.mallocState());
	}

	private static long residentKb() {
		long kb = EngineEnvironment.processMemoryKb("VmRSS");
		if (kb < 0) throw new IllegalStateException("no VmRSS in /proc/self/status");
		return kb;
	}
}
