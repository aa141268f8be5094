package example.http;

import org.apache.http.client.HttpClient;
import com.google.gson.Gson;
import java.io.IOException;
import org.apache.http.HttpEntity;

public class Gateway {
  @Inject private HttpClient client;

  HttpEntity fetch(String url) throws IOException {
    return client.execute(url).getEntity();
  }
}
