package io.dcls4j.nn;

import io.dcls4j.io.NdArray;
import io.dcls4j.io.Npz;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One committed PyTorch comparison case of tests/data/nn (made by tests/pytorch/make_nn_cases.py): its flat
 * JSON configuration, the state-dict file, and the arrays (x, labels, logits, loss, grad.NAME).
 */
record PyTorchCase(String name, String json, Path state, Map<String, NdArray> arrays) {
    static final Path DIR = Path.of("tests/data/nn");

    static PyTorchCase load(String name) throws IOException {
        String json = Files.readString(DIR.resolve(name + ".json"));
        PyTorchCase partial = new PyTorchCase(name, json, null, null);
        return new PyTorchCase(name, json, DIR.resolve(partial.string("state")), Npz.read(DIR.resolve(name + ".npz")));
    }

    private Matcher find(String key) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*(\\[[^\\]]*\\]|\"[^\"]*\"|[-0-9.eE+]+)")
                .matcher(json);
        if (!m.find()) {
            throw new IllegalStateException(name + ".json has no " + key);
        }
        return m;
    }

    String string(String key) {
        String v = find(key).group(1);
        return v.substring(1, v.length() - 1);
    }

    int integer(String key) {
        return Integer.parseInt(find(key).group(1));
    }

    double number(String key) {
        return Double.parseDouble(find(key).group(1));
    }

    int[] ints(String key) {
        String v = find(key).group(1);
        return Arrays.stream(v.substring(1, v.length() - 1).split(",")).map(String::trim).mapToInt(Integer::parseInt)
                .toArray();
    }

    NdArray array(String key) {
        NdArray a = arrays.get(key);
        if (a == null) {
            throw new IllegalStateException(name + ".npz has no " + key);
        }
        return a;
    }

    int[] labels() {
        return Arrays.stream(array("labels").data()).mapToInt(d -> (int) d).toArray();
    }
}
